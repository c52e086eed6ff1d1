//! Customers: creation with contacts and custom properties, changes (Sequence customers carry no
//! `updatedAt`, so syncs must notice changes by content), archiving, and the customer's tax
//! registrations (`GET /tax-registrations/for-customer/{id}`). Why contacts matter here: they decide
//! the `customerEmails` of every invoice and credit note (contacts billed PRIMARY or STANDARD).

use crate::SimError;
use crate::util::slug;
use crate::wire::{
    Address, BillingPreference, Contact, Customer, CustomerResponse, CustomerStatus, TaxRegistration, TaxStatus,
};
use crate::world::{CustomerRec, Target, World};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A contact to create with a customer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewContact {
    pub name: String,
    /// Default: derived from the name and the customer's domain.
    pub email: Option<String>,
    /// Default: PRIMARY for the first contact, STANDARD for the rest.
    pub billing_preference: Option<BillingPreference>,
    pub archived: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewCustomer {
    #[serde(flatten)]
    pub target: Target,
    pub legal_name: String,
    pub address: Address,
    pub tax_status: Option<TaxStatus>,
    /// Creates a customer tax registration with this identifier.
    pub tax_identifier: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Default: one PRIMARY "Accounts Payable" contact.
    pub contacts: Option<Vec<NewContact>>,
    /// Sent as an object map, e.g. `{"region": "EU"}`.
    pub custom_properties: BTreeMap<String, String>,
    pub label: Option<String>,
}

/// Changes to a customer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerPatch {
    pub legal_name: Option<String>,
    pub address: Option<Address>,
    pub tax_status: Option<TaxStatus>,
    /// Replaces the customer's tax registrations with one carrying this identifier ("" removes them).
    pub tax_identifier: Option<String>,
    /// Archives (true) or restores (false) the customer.
    pub archived: Option<bool>,
    /// Replaces the custom properties.
    pub custom_properties: Option<BTreeMap<String, String>>,
    /// Replaces the contacts.
    pub contacts: Option<Vec<NewContact>>,
}

impl CustomerRec {
    /// Who receives documents: the live contacts billed PRIMARY or STANDARD.
    pub fn billing_emails(&self) -> Vec<String> {
        self.contacts
            .iter()
            .filter(|c| c.archived_at.is_none() && c.billing_preference != BillingPreference::NoInvoices)
            .map(|c| c.email.clone())
            .collect()
    }

    /// The single-customer response.
    pub fn response(&self) -> CustomerResponse {
        CustomerResponse { customer: self.customer.clone(), contacts: self.contacts.clone(), status: self.status }
    }
}

impl World {
    fn contacts(&mut self, legal_name: &str, specs: &[NewContact], at: DateTime<Utc>) -> Vec<Contact> {
        let domain = format!("{}.example", slug(legal_name));
        specs
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let local: String = c
                    .name
                    .split_whitespace()
                    .map(|w| w.chars().filter(char::is_ascii_alphanumeric).collect::<String>())
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(".")
                    .to_ascii_lowercase();
                let local = if local.is_empty() { format!("contact{k}") } else { local };
                Contact {
                    id: self.rng.uuid(),
                    name: c.name.clone(),
                    email: c.email.clone().unwrap_or_else(|| format!("{local}@{domain}")),
                    billing_preference: c.billing_preference.unwrap_or(if k == 0 {
                        BillingPreference::Primary
                    } else {
                        BillingPreference::Standard
                    }),
                    created_at: at,
                    updated_at: at,
                    archived_at: c.archived.then_some(at),
                }
            })
            .collect()
    }

    fn register_tax_id(&mut self, a: usize, customer_id: &str, tax_identifier: &str, address: &Address) {
        let id = self.rng.uuid();
        let acc = &mut self.accounts[a];
        acc.tax_registrations.push(TaxRegistration {
            id,
            sequence_account_id: acc.info.id.clone(),
            tax_identifier: tax_identifier.to_owned(),
            customer_id: customer_id.to_owned(),
            country: address.country.clone(),
            // The documented `state` values are US states and Canadian provinces only.
            state: address.state.clone().filter(|_| matches!(address.country.as_str(), "US" | "CA")),
        });
    }

    pub fn create_customer(&mut self, c: NewCustomer) -> Result<CustomerResponse, SimError> {
        let a = self.account_index(&c.target)?;
        if c.legal_name.trim().is_empty() {
            return Err(SimError::bad_request("legalName is required"));
        }
        let id = self.rng.uuid();
        let created_at = c.created_at.unwrap_or_else(|| self.now());
        let seq = self.seq();
        let specs = c.contacts.clone().unwrap_or_else(|| {
            vec![NewContact { name: "Accounts Payable".into(), email: None, ..NewContact::default() }]
        });
        let contacts = self.contacts(&c.legal_name, &specs, created_at);
        let domain = format!("{}.example", slug(&c.legal_name));
        let customer = Customer {
            id: id.clone(),
            created_at,
            organizations: Vec::new(),
            legal_name: c.legal_name,
            address: c.address.clone(),
            url: Some(format!("https://www.{domain}")),
            domain: Some(domain),
            label: c.label,
            integration_ids: Vec::new(),
            archived_at: None,
            tax_status: c.tax_status.unwrap_or(TaxStatus::Taxed),
            custom_properties: c.custom_properties,
        };
        if let Some(t) = &c.tax_identifier {
            self.register_tax_id(a, &id, t, &c.address);
        }
        let rec = CustomerRec { seq, customer, contacts, status: CustomerStatus::Active };
        let out = rec.response();
        self.accounts[a].customers.insert(rec);
        Ok(out)
    }

    pub fn update_customer(&mut self, id: &str, p: CustomerPatch) -> Result<CustomerResponse, SimError> {
        let now = self.now();
        let a = self.customer_account(id)?;
        let legal_name = p.legal_name.clone().unwrap_or_else(|| {
            self.accounts[a].customers.get(id).map(|c| c.customer.legal_name.clone()).unwrap_or_default()
        });
        let contacts = p.contacts.as_ref().map(|specs| self.contacts(&legal_name, specs, now));
        if let Some(t) = &p.tax_identifier {
            self.accounts[a].tax_registrations.retain(|r| r.customer_id != id);
            if !t.is_empty() {
                let addr = p.address.clone().unwrap_or_else(|| {
                    self.accounts[a].customers.get(id).map(|c| c.customer.address.clone()).unwrap_or_default()
                });
                self.register_tax_id(a, id, t, &addr);
            }
        }
        let rec = self.accounts[a].customers.get_mut(id).ok_or_else(|| SimError::not_found("customer", id))?;
        let c = &mut rec.customer;
        if let Some(n) = p.legal_name {
            c.legal_name = n;
        }
        if let Some(addr) = p.address {
            c.address = addr;
        }
        if let Some(t) = p.tax_status {
            c.tax_status = t;
        }
        if let Some(props) = p.custom_properties {
            c.custom_properties = props;
        }
        match p.archived {
            Some(true) => c.archived_at = Some(now),
            Some(false) => c.archived_at = None,
            None => {}
        }
        if let Some(list) = contacts {
            rec.contacts = list;
        }
        Ok(rec.response())
    }
}
