//! The hard cases every seeded sandbox gets (unless `hardCases: false`): the shapes and states a
//! connector meets in real accounts and that an average random seed may miss. Why fixed documents with
//! recorded ids: tests (and the departure checker's one allowlisted enum departure) address them by id,
//! through [`HardCases`], `GET /_sim/hard-cases` or `SimState::hard_cases`.
//!
//! - a customer with custom properties (an object map with awkward keys and values), four contacts
//!   (PRIMARY, STANDARD, NONE, one archived), integration ids (one pending) and an organization shared
//!   with a second customer;
//! - one invoice in each status (IN_PROGRESS, DRAFT, FINAL, SENT — paid through Stripe — VOIDED);
//! - one credit note in each status (IN_PROGRESS, DRAFT, FINAL, SENT, VOIDED);
//! - a FINAL invoice in `XBT`, a code in neither the documented currency set nor ISO 4217, which the
//!   connector must quarantine;
//! - a SENT credit note whose invoice was deleted: its `invoiceId` answers 404.

use super::at;
use crate::customers::{NewContact, NewCustomer};
use crate::invoices::{NewInvoice, Payment};
use crate::lines::{NewCreditLine, NewLine};
use crate::prng::Prng;
use crate::wire::{
    Address, BillingPreference, CreditNoteStatus, CustomerIdWithName, CustomerOrganization, ExternalId, IntegrationId,
    IntegrationService, InvoiceStatus, KeyValuePair, LinkInfo, PaymentOrigin, TaxStatus,
};
use crate::world::{Target, World};
use crate::{NewCreditNote, SimError};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The currency of the unknown-currency invoice.
pub const UNKNOWN_CURRENCY: &str = "XBT";

/// The ids of the seeded hard cases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardCases {
    /// Custom properties, several contacts, integration ids, an organization.
    pub customer_with_properties: String,
    /// The other member of that customer's organization.
    pub organization_member: String,
    /// Status (`"IN_PROGRESS"`, …) → invoice id.
    pub invoices_by_status: BTreeMap<String, String>,
    /// Status → credit note id.
    pub credit_notes_by_status: BTreeMap<String, String>,
    /// A FINAL invoice in [`UNKNOWN_CURRENCY`].
    pub unknown_currency_invoice: String,
    /// A SENT credit note against [`HardCases::deleted_invoice`].
    pub orphan_credit_note: String,
    /// Deleted after the orphan credit note was issued: `GET /invoices/{id}` → 404.
    pub deleted_invoice: String,
}

fn case(name: &str) -> Vec<KeyValuePair> {
    vec![KeyValuePair::new("simCase", name)]
}

fn contact(name: &str, pref: BillingPreference, archived: bool) -> NewContact {
    NewContact { name: name.into(), email: None, billing_preference: Some(pref), archived }
}

pub fn seed(w: &mut World, target: &Target, anchor: NaiveDate, rng: &mut Prng) -> Result<HardCases, SimError> {
    let a = w.account_index(target)?;
    let vat = format!("DE{}", rng.digits(9));
    let created = at(anchor, 30, 0);
    let holder = w
        .create_customer(NewCustomer {
            target: target.clone(),
            legal_name: "Hard Case Holdings GmbH".into(),
            address: Address {
                line1: "Friedrichstraße 68".into(),
                line2: Some("3. OG".into()),
                town: "Berlin".into(),
                state: None,
                postcode: "10117".into(),
                country: "DE".into(),
            },
            tax_status: Some(TaxStatus::ReverseCharged),
            tax_identifier: Some(vat),
            created_at: Some(created),
            contacts: Some(vec![
                contact("Greta Weber", BillingPreference::Primary, false),
                contact("Jonas Becker", BillingPreference::Standard, false),
                contact("Procurement Desk", BillingPreference::NoInvoices, false),
                contact("Former Controller", BillingPreference::Standard, true),
            ]),
            custom_properties: BTreeMap::from([
                ("region".to_owned(), "EU".to_owned()),
                ("tier".to_owned(), "gold".to_owned()),
                ("crm id".to_owned(), "CRM-000123".to_owned()),
                ("notes".to_owned(), "Zahlung per Überweisung; \"net 30\" & PO required".to_owned()),
                ("empty".to_owned(), String::new()),
            ]),
            label: Some("Hard case".into()),
        })?
        .customer
        .id;
    let member = w
        .create_customer(NewCustomer {
            target: target.clone(),
            legal_name: "Hard Case Subsidiary Ltd".into(),
            address: Address {
                line1: "10 Queen Street Place".into(),
                line2: None,
                town: "London".into(),
                state: None,
                postcode: "EC4R 1BE".into(),
                country: "GB".into(),
            },
            created_at: Some(created + Duration::minutes(5)),
            contacts: Some(vec![
                contact("Priya Shah", BillingPreference::Primary, false),
                contact("Tom Evans", BillingPreference::Standard, false),
            ]),
            custom_properties: BTreeMap::from([("region".to_owned(), "UK".to_owned())]),
            ..NewCustomer::default()
        })?
        .customer
        .id;
    let org = CustomerOrganization {
        id: w.rng.uuid(),
        owner: CustomerIdWithName { id: holder.clone(), name: "Hard Case Holdings GmbH".into() },
        members: vec![CustomerIdWithName { id: member.clone(), name: "Hard Case Subsidiary Ltd".into() }],
    };
    let stripe_id = format!("cus_{}", rng.digits(14));
    let hubspot_id = rng.digits(11);
    for id in [&holder, &member] {
        if let Some(c) = w.accounts[a].customers.get_mut(id) {
            c.customer.organizations = vec![org.clone()];
        }
    }
    if let Some(c) = w.accounts[a].customers.get_mut(&holder) {
        c.customer.integration_ids = vec![
            IntegrationId {
                service: IntegrationService::Stripe,
                id: stripe_id,
                last_synced: Some(created + Duration::hours(2)),
                is_pending: false,
            },
            IntegrationId { service: IntegrationService::HubSpot, id: hubspot_id, last_synced: None, is_pending: true },
        ];
    }

    let lines = || {
        vec![
            NewLine {
                title: Some("Platform subscription".into()),
                rate: Decimal::new(120_000, 2),
                ..NewLine::default()
            },
            NewLine {
                title: Some("Seats".into()),
                quantity: Some(Decimal::from(12)),
                rate: Decimal::new(4_500, 2),
                ..NewLine::default()
            },
        ]
    };
    let mut invoices_by_status = BTreeMap::new();
    for (k, status) in InvoiceStatus::ALL.iter().enumerate() {
        let created_at = at(anchor, 3, 3_600 * i64::try_from(k).unwrap_or(0));
        let id = w.create_invoice(NewInvoice {
            target: target.clone(),
            customer_id: holder.clone(),
            status: Some(*status),
            lines: lines(),
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            memo: Some(format!("Hard case: a {status} invoice")),
            metadata: case(&format!("invoice-{status}")),
            ..NewInvoice::default()
        })?;
        invoices_by_status.insert(status.to_string(), id);
    }
    let sent = invoices_by_status.get("SENT").cloned().unwrap_or_default();
    super::link_to_accounting(w, a, &sent, at(anchor, 2, 0))?;
    let first_line = w.accounts[a].invoice(&sent)?.lines.first().map(|l| l.id.clone());
    let mut credit_notes_by_status = BTreeMap::new();
    for (k, status) in CreditNoteStatus::ALL.iter().enumerate() {
        let created_at = at(anchor, 2, 3_600 * i64::try_from(k).unwrap_or(0));
        let id = w.issue_credit_note(NewCreditNote {
            target: target.clone(),
            invoice_id: Some(sent.clone()),
            status: Some(*status),
            lines: Some(vec![NewCreditLine {
                line_item_id: first_line.clone(),
                quantity: Some(Decimal::ONE),
                rate: Some(Decimal::new(5_000, 2)),
                ..NewCreditLine::default()
            }]),
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            memo: Some(format!("Hard case: a {status} credit note")),
            metadata: case(&format!("credit-note-{status}")),
            ..NewCreditNote::default()
        })?;
        credit_notes_by_status.insert(status.to_string(), id);
    }
    // The SENT credit note was exported to the accounting system too.
    if let Some(id) = credit_notes_by_status.get("SENT").cloned() {
        let external = w.rng.uuid();
        let line_ids: Vec<String> = (0..w.accounts[a].credit_note(&id)?.lines.len()).map(|_| w.rng.uuid()).collect();
        let rec = w.accounts[a].credit_note_mut(&id)?;
        rec.credit_note.linked_services.push(LinkInfo {
            external_id: external,
            external_service: IntegrationService::Xero,
            sync_time: at(anchor, 1, 3_600),
            external_url: None,
        });
        for (line, value) in rec.lines.iter_mut().zip(line_ids) {
            line.external_ids.push(ExternalId { key: IntegrationService::Xero, value });
        }
    }
    w.pay_invoice(&sent, Payment { origin: Some(PaymentOrigin::Stripe), paid_at: Some(at(anchor, 1, 0)) })?;

    let created_at = at(anchor, 1, 7_200);
    let unknown_currency_invoice = w.create_invoice(NewInvoice {
        target: target.clone(),
        customer_id: holder.clone(),
        currency: Some(UNKNOWN_CURRENCY.into()),
        status: Some(InvoiceStatus::Final),
        lines: vec![NewLine {
            title: Some("Node hosting, billed in XBT".into()),
            quantity: Some(Decimal::from(2)),
            rate: Decimal::new(50, 2),
            ..NewLine::default()
        }],
        issue_date: Some(created_at.date_naive()),
        created_at: Some(created_at),
        memo: Some("Hard case: a currency outside the documented set and ISO 4217".into()),
        metadata: case("unknown-currency"),
        ..NewInvoice::default()
    })?;

    let created_at = at(anchor, 20, 0);
    let deleted_invoice = w.create_invoice(NewInvoice {
        target: target.clone(),
        customer_id: member.clone(),
        status: Some(InvoiceStatus::Sent),
        lines: vec![NewLine {
            title: Some("Consulting day".into()),
            rate: Decimal::new(95_000, 2),
            ..NewLine::default()
        }],
        issue_date: Some(created_at.date_naive()),
        created_at: Some(created_at),
        metadata: case("deleted-invoice"),
        ..NewInvoice::default()
    })?;
    let created_at = at(anchor, 10, 0);
    let orphan_credit_note = w.issue_credit_note(NewCreditNote {
        target: target.clone(),
        invoice_id: Some(deleted_invoice.clone()),
        status: Some(CreditNoteStatus::Sent),
        issue_date: Some(created_at.date_naive()),
        created_at: Some(created_at),
        memo: Some("Hard case: the credited invoice was deleted".into()),
        metadata: case("orphan-credit-note"),
        ..NewCreditNote::default()
    })?;
    w.delete_invoice(&deleted_invoice)?;

    Ok(HardCases {
        customer_with_properties: holder,
        organization_member: member,
        invoices_by_status,
        credit_notes_by_status,
        unknown_currency_invoice,
        orphan_credit_note,
        deleted_invoice,
    })
}
