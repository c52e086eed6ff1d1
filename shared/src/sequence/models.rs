//! Typed models of the Sequence API objects the connector reads, spelled exactly as the 2024-07-30
//! schema spells them (camelCase). Why these shapes: money and quantities are decimal strings in major
//! units, so they are `Decimal` parsed from strings (never `f64`); every field the schema does not mark
//! required is an `Option`; enums keep values we do not know yet (`Other(String)`), because Sequence adds
//! enum values without a version bump; unknown fields are ignored. Required list fields default to empty
//! so one sparse record cannot fail a whole page. The simulator (`sequence-sim`) has its own wire types
//! that follow the published document; these models only have to read what it sends.

use crate::domain::Decimal;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A string enum that keeps unknown values.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this client does not know yet.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(s) => s,
                }
            }

            /// The documented values (not `Other`).
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}

string_enum!(
    /// `Invoice.status`.
    InvoiceStatus { InProgress = "IN_PROGRESS", Draft = "DRAFT", Final = "FINAL", Sent = "SENT", Voided = "VOIDED" }
);
string_enum!(
    /// `CreditNote.status`.
    CreditNoteStatus { Draft = "DRAFT", Final = "FINAL", InProgress = "IN_PROGRESS", Sent = "SENT", Voided = "VOIDED" }
);
string_enum!(
    /// `Invoice.paymentStatus`.
    PaymentStatus { Unpaid = "UNPAID", PartiallyPaid = "PARTIALLY_PAID", Paid = "PAID", Uncollectible = "UNCOLLECTIBLE" }
);
string_enum!(
    /// Customer `taxStatus` / invoice `customerTaxStatus`.
    TaxStatus { Taxed = "TAXED", TaxExempt = "TAX_EXEMPT", ReverseCharged = "REVERSE_CHARGED" }
);
string_enum!(
    /// `IntegrationService` (linked services, integration ids, line external ids). Only the values the
    /// research confirmed are named; the rest arrive as `Other`.
    IntegrationService {
        Sphere = "Sphere",
        Avalara = "Avalara",
        Anrok = "Anrok",
        Numeral = "Numeral",
    }
);
string_enum!(
    /// Line item `rateDisplay`.
    RateDisplay { Absolute = "ABSOLUTE", Percentage = "PERCENTAGE" }
);
string_enum!(
    /// Customer `status` (single-customer response).
    CustomerStatus { Draft = "DRAFT", Active = "ACTIVE" }
);
string_enum!(
    /// `sortOrder` on lists.
    SortOrder { Asc = "ASC", Desc = "DESC" }
);

/// The list envelope's `pagination` (all fields optional, nullable on some lists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub after: Option<String>,
    pub before: Option<String>,
    pub total_result_size: Option<u64>,
}

/// The list envelope `{"items":[...],"pagination":{...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// `SequenceAccount` (`GET /sequence-accounts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SequenceAccount {
    pub id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub sequence_organisation_id: Option<String>,
    pub company_name: Option<String>,
    pub company_number: Option<String>,
    pub country: Option<String>,
    pub send_customer_notifications: Option<bool>,
    pub alert_email_addresses: Option<Vec<String>>,
}

/// `Address1` (invoice / credit note addresses) and the customer `Address`. `line1`, `town`,
/// `postcode` and `country` are required on invoices; absent values decode as empty strings rather
/// than failing the page. `state` is "required for USA and Canada".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default)]
    pub line1: String,
    pub line2: Option<String>,
    #[serde(default)]
    pub town: String,
    pub state: Option<String>,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub country: String,
}

/// Customer `integrationIds[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationId {
    pub service: IntegrationService,
    pub id: String,
    pub last_synced: Option<DateTime<Utc>>,
    pub is_pending: Option<bool>,
}

/// `GET /customers` item (and `GET /customers/{id}`, which adds `contacts` and `status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub organizations: Vec<serde_json::Value>,
    pub legal_name: String,
    #[serde(default)]
    pub address: Address,
    pub url: Option<String>,
    pub domain: Option<String>,
    pub label: Option<String>,
    #[serde(default)]
    pub integration_ids: Vec<IntegrationId>,
    pub archived_at: Option<DateTime<Utc>>,
    /// "TAXED, TAX_EXEMPT or REVERSE_CHARGED. The default is TAXED".
    #[serde(default = "default_tax_status")]
    pub tax_status: TaxStatus,
    /// An object map (`{"region": "EU"}`).
    #[serde(default)]
    pub custom_properties: std::collections::BTreeMap<String, serde_json::Value>,
    pub contacts: Option<Vec<serde_json::Value>>,
    pub status: Option<CustomerStatus>,
}

fn default_tax_status() -> TaxStatus {
    TaxStatus::Taxed
}

/// `GET /tax-registrations/for-customer/{id}` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRegistration {
    pub id: String,
    pub sequence_account_id: Option<String>,
    pub tax_identifier: String,
    pub customer_id: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
}

/// `GET /products` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: String,
    pub name: String,
    pub label: Option<String>,
    pub tax_category_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Invoice `billingPeriod`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end_inclusive: NaiveDate,
}

/// `linkedServices[]` on invoices and credit notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedService {
    pub external_id: String,
    pub external_service: IntegrationService,
    pub sync_time: Option<DateTime<Utc>>,
    pub external_url: Option<String>,
}

/// `metadata[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataEntry {
    pub key: String,
    pub value: String,
}

/// `merchantDetails` (the merchant's own address: the ship-from candidate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantDetails {
    #[serde(default)]
    pub address: Address,
    pub email: Option<String>,
    pub legal_company_name: Option<String>,
    pub tax_id: Option<String>,
}

/// `GET /invoices` item, and `GET /invoices/{id}` (which adds `balance` and more; extra fields are
/// ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: String,
    pub sequence_account_id: String,
    pub status: InvoiceStatus,
    /// The code as sent: Sequence may add currencies, and the sync quarantines codes it does not know.
    pub currency: String,
    pub invoice_number: Option<String>,
    pub purchase_order_number: Option<String>,
    pub reference: Option<String>,
    pub memo: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub accounting_date: Option<NaiveDate>,
    pub billing_period: Option<BillingPeriod>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub calculated_at: Option<DateTime<Utc>>,
    pub customer_id: String,
    #[serde(default)]
    pub customer_legal_company_name: String,
    #[serde(default)]
    pub customer_emails: Vec<String>,
    #[serde(default)]
    pub customer_billing_address: Address,
    #[serde(default)]
    pub customer_shipping_address: Address,
    pub customer_tax_status: Option<TaxStatus>,
    pub customer_tax_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub payment_status: Option<PaymentStatus>,
    #[serde(default)]
    pub credit_note_ids: Vec<String>,
    #[serde(default)]
    pub linked_services: Vec<LinkedService>,
    pub merchant_details: Option<MerchantDetails>,
    #[serde(default)]
    pub metadata: Vec<MetadataEntry>,
    pub billing_schedule_id: Option<String>,
    pub is_customer_archived: Option<bool>,
    pub dunning_status: Option<String>,
    /// Only on `GET /invoices/{id}`.
    pub balance: Option<Decimal>,
}

/// Line item `servicePeriod` on invoices (`startDate`/`endDate`); kept as strings because the schema
/// gives no format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceServicePeriod {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// Credit-note line `servicePeriod` (`start`/`endInclusive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteServicePeriod {
    pub start: Option<String>,
    pub end_inclusive: Option<String>,
}

/// Line `externalIds[]`: `{key: IntegrationService, value}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalId {
    pub key: IntegrationService,
    pub value: String,
}

/// `GET /invoices/{invoice}/line-items` item (`Stable20240101LineItemResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineItem {
    pub id: String,
    pub invoice_id: String,
    pub title: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    /// "Price per Item".
    pub rate: Decimal,
    /// A fraction on lines (example `"0.2"`); informational.
    pub tax_rate: Decimal,
    pub service_period_start: Option<String>,
    pub service_period_end: Option<String>,
    pub service_period: Option<InvoiceServicePeriod>,
    pub index: i64,
    pub group_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub price_id: Option<String>,
    pub rate_display: Option<RateDisplay>,
    #[serde(default)]
    pub external_ids: Vec<ExternalId>,
    pub revenue_classification: Option<String>,
    pub credit_grant_id: Option<String>,
    pub product_id: Option<String>,
    pub revenue_recognition_method: Option<String>,
}

/// Credit-note `applications[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteApplication {
    pub invoice_id: Option<String>,
    pub invoice_number: Option<String>,
    pub amount: Option<Decimal>,
    pub applied_at: Option<DateTime<Utc>>,
}

/// `GET /credit-notes` item. No `createdAt`/`updatedAt`/`customerTaxStatus` in the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNote {
    pub id: String,
    pub sequence_account_id: String,
    pub status: CreditNoteStatus,
    pub invoice_id: Option<String>,
    pub invoice_number: Option<String>,
    pub billing_schedule_id: Option<String>,
    /// The code as sent: Sequence may add currencies, and the sync quarantines codes it does not know.
    pub currency: String,
    pub issue_date: Option<NaiveDate>,
    pub billing_period_start: Option<NaiveDate>,
    pub billing_period_end: Option<NaiveDate>,
    pub credit_note_number: Option<String>,
    pub purchase_order_number: Option<String>,
    pub customer_id: String,
    #[serde(default)]
    pub customer_emails: Vec<String>,
    #[serde(default)]
    pub customer_legal_company_name: String,
    #[serde(default)]
    pub customer_billing_address: Address,
    #[serde(default)]
    pub customer_shipping_address: Address,
    pub memo: Option<String>,
    pub total_tax: Decimal,
    pub net_total: Decimal,
    pub gross_total: Decimal,
    #[serde(default)]
    pub metadata: Vec<MetadataEntry>,
    pub customer_tax_id: Option<String>,
    #[serde(default)]
    pub linked_services: Vec<LinkedService>,
    pub application_status: Option<String>,
    pub balance: Option<Decimal>,
    #[serde(default)]
    pub applications: Vec<CreditNoteApplication>,
    pub merchant_details: Option<MerchantDetails>,
    pub accounting_date: Option<NaiveDate>,
}

/// `GET /credit-notes/{creditnote}/line-items` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteLineItem {
    pub id: String,
    pub credit_note_id: String,
    pub group_id: Option<String>,
    /// The credited invoice line, when the credit note was issued against an invoice.
    pub line_item_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub rate: Decimal,
    pub tax_rate: Option<Decimal>,
    pub index: Option<i64>,
    pub price_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub rate_display: Option<RateDisplay>,
    #[serde(default)]
    pub external_ids: Vec<ExternalId>,
    pub service_period: Option<CreditNoteServicePeriod>,
    pub revenue_recognition_method: Option<String>,
    pub revenue_classification: Option<String>,
    pub product_id: Option<String>,
}

impl Invoice {
    /// The Sphere calculation id Sequence recorded on this invoice, if any.
    pub fn sphere_calculation_id(&self) -> Option<&str> {
        self.linked_services
            .iter()
            .find(|l| l.external_service == IntegrationService::Sphere)
            .map(|l| l.external_id.as_str())
    }
}
