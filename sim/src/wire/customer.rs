//! Customers: the list item (`ListCustomerResponseModel`), the single customer (`Customer`, which adds
//! `contacts` and `status`), and their parts; plus `GET /tax-registrations/for-customer/{id}` items.
//! `customProperties` is an object map (`{"region": "EU"}`), never a list.

use super::{BillingPreference, CustomerStatus, IntegrationService, TaxStatus};
use crate::wire::Address;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /customers` item; also the shared part of `GET /customers/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub organizations: Vec<CustomerOrganization>,
    pub legal_name: String,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub integration_ids: Vec<IntegrationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
    pub tax_status: TaxStatus,
    pub custom_properties: BTreeMap<String, String>,
}

/// `GET /customers/{id}`: the list item plus `contacts` and `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerResponse {
    #[serde(flatten)]
    pub customer: Customer,
    pub contacts: Vec<Contact>,
    pub status: CustomerStatus,
}

/// `CustomerOrganization`: a group of related customers (parent and members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerOrganization {
    pub id: String,
    pub owner: CustomerIdWithName,
    pub members: Vec<CustomerIdWithName>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerIdWithName {
    pub id: String,
    pub name: String,
}

/// `IntegrationId1` (`integrationIds[]`): the customer's id in another system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationId {
    pub service: IntegrationService,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced: Option<DateTime<Utc>>,
    pub is_pending: bool,
}

/// `Contact`: a person at the customer; `billingPreference` decides who gets invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub email: String,
    pub billing_preference: BillingPreference,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
}

/// `GetTaxRegistrationForCustomerCustomerTaxRegistration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRegistration {
    pub id: String,
    pub sequence_account_id: String,
    pub tax_identifier: String,
    pub customer_id: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}
