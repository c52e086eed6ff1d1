//! Credit notes (`CreditNote`, the same shape in the list and by id) and their line items. Credit notes
//! carry no `createdAt`/`updatedAt` in the document; the simulator orders them by an internal
//! creation time.

use super::{ApplicationStatus, CashCreditGrant, CreditNoteStatus, RateDisplay};
use super::{RevenueClassification, RevenueRecognitionMethod};
use crate::wire::{Address, ExternalId, InclusiveDateRange, KeyValuePair, LinkInfo, MerchantDetails};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNote {
    pub id: String,
    pub sequence_account_id: String,
    pub status: CreditNoteStatus,
    /// The credited invoice; absent for a credit note issued from scratch. May name an invoice the
    /// API no longer returns (deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_schedule_id: Option<String>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_period_start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_period_end: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_note_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order_number: Option<String>,
    pub customer_id: String,
    pub customer_emails: Vec<String>,
    pub customer_legal_company_name: String,
    pub customer_billing_address: Address,
    pub customer_shipping_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    pub total_tax: Decimal,
    pub net_total: Decimal,
    pub gross_total: Decimal,
    pub metadata: Vec<KeyValuePair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_tax_id: Option<String>,
    pub linked_services: Vec<LinkInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_status: Option<ApplicationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_version: Option<i64>,
    pub applications: Vec<CreditNoteApplication>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_details: Option<MerchantDetails>,
    pub settings: CreditNoteSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounting_date: Option<NaiveDate>,
}

/// `CreditNoteApplication`: the credit applied to an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteApplication {
    pub invoice_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    pub amount: Decimal,
    pub applied_at: DateTime<Utc>,
}

/// `CreditNoteSettings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteSettings {
    pub generate_cash_credit_grant: CashCreditGrant,
}

/// `GET /credit-notes/{creditnote}/line-items` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteLineItem {
    pub id: String,
    pub credit_note_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The credited invoice line, when credited from an invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub quantity: Decimal,
    pub rate: Decimal,
    pub tax_rate: Decimal,
    pub index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub rate_display: RateDisplay,
    pub external_ids: Vec<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_period: Option<InclusiveDateRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_recognition_method: Option<RevenueRecognitionMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_classification: Option<RevenueClassification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
}
