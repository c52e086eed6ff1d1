//! Invoices: the list item (`Invoice`), the single invoice (`InvoiceResponse` = the list item plus
//! [`InvoiceDetail`]: balance, payments, applied credit notes and grants, due-date source), their
//! merchant details, and their line items (`Stable20240101LineItemResponse`).

use super::{
    CreditGrantStatus, DueDateSource, IntegrationPaymentStatus, IntegrationService, InvoiceStatus, PaymentLinkDisplay,
    PaymentOption, PaymentOrigin, PaymentStatus, RateDisplay, RevenueClassification, RevenueRecognitionMethod,
    TaxStatus,
};
use crate::wire::{Address, DateRange, ExternalId, InclusiveDateRange, KeyValuePair, LinkInfo};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `GET /invoices` item; also the shared part of `GET /invoices/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: String,
    pub sequence_account_id: String,
    pub status: InvoiceStatus,
    /// ISO 4217 code; a string because the simulator also serves one undocumented currency.
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub customer_emails: Vec<String>,
    pub customer_legal_company_name: String,
    pub customer_billing_address: Address,
    pub customer_shipping_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_options: Option<Vec<PaymentOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_period: Option<InclusiveDateRange>,
    pub customer_id: String,
    pub total_tax: Decimal,
    pub net_total: Decimal,
    pub gross_total: Decimal,
    pub metadata: Vec<KeyValuePair>,
    pub payment_status: PaymentStatus,
    pub created_at: DateTime<Utc>,
    pub credit_note_ids: Vec<String>,
    pub linked_services: Vec<LinkInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_details: Option<MerchantDetails>,
    pub accounting_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_tax_status: Option<TaxStatus>,
    pub render_settings: RenderSettings,
    pub is_customer_archived: bool,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_schedule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculated_at: Option<DateTime<Utc>>,
}

impl Invoice {
    /// The Sphere calculation id recorded on this invoice (Part 2), if any.
    pub fn sphere_calculation_id(&self) -> Option<&str> {
        self.linked_services
            .iter()
            .find(|l| l.external_service == IntegrationService::Sphere)
            .map(|l| l.external_id.as_str())
    }
}

/// The fields only `GET /invoices/{id}` sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_run_id: Option<String>,
    /// What is still owed: gross total less applied credit notes and payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_version: Option<i64>,
    pub integration_payment_statuses: IntegrationPaymentStatuses,
    pub applied_credit_notes: Vec<AppliedCreditNote>,
    pub applied_credit_grants: Vec<AppliedCreditGrant>,
    pub projected_credit_grants: Vec<ProjectedCreditGrant>,
    pub payment_allocations: Vec<PaymentAllocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_term_days: Option<i64>,
    pub due_date_source: DueDateSource,
}

/// `GET /invoices/{id}` (`InvoiceResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceResponse {
    #[serde(flatten)]
    pub invoice: Invoice,
    #[serde(flatten)]
    pub detail: InvoiceDetail,
}

/// `InvoiceMerchantDetails`: the merchant as printed on its documents (the ship-from candidate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantDetails {
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uk_account_details: Option<SortCodeAccountNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub us_ach_details: Option<UsAchDestination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    pub legal_company_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_colour: Option<String>,
    pub custom_fields: Vec<KeyValuePair>,
    pub include_beneficiary_address_in_payment_details: bool,
}

/// `SortCodeAccountNumber` (UK bank details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SortCodeAccountNumber {
    pub sort_code: String,
    pub account_number: String,
}

/// `UsAchDestination`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsAchDestination {
    pub account_number: String,
    pub account_name: String,
    pub bank_name: String,
    pub bank_routing_number: String,
}

/// `InvoiceRenderSettingsInlineAggregate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderSettings {
    pub payment_link_display: PaymentLinkDisplay,
}

/// `IntegrationPaymentStatuses`: both members optional, so usually `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationPaymentStatuses {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe: Option<IntegrationPaymentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_cardless: Option<IntegrationPaymentStatus>,
}

/// `AppliedCreditNoteResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCreditNote {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_note_number: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub line_items: Vec<AppliedCreditNoteLineItem>,
}

/// `AppliedCreditNoteLineItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCreditNoteLineItem {
    pub name: String,
    pub net_total: Decimal,
    pub gross_total: Decimal,
    pub invoice_line_item_ids: Vec<String>,
}

/// `AppliedCreditGrantResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCreditGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grant_name: Option<String>,
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Decimal>,
    pub status: CreditGrantStatus,
}

/// `ProjectedCreditGrantResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectedCreditGrant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grant_name: Option<String>,
    pub amount: Decimal,
}

/// `PaymentAllocationResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAllocation {
    pub payment_id: String,
    pub amount: Decimal,
    pub allocated_at: DateTime<Utc>,
    pub paid_at: DateTime<Utc>,
    pub origin: PaymentOrigin,
}

/// `Stable20240101LineItemResponse` (`GET /invoices/{invoice}/line-items` item). `taxRate` is a
/// fraction (`"0.2"` for 20 %).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineItem {
    pub id: String,
    pub invoice_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub quantity: Decimal,
    pub rate: Decimal,
    pub tax_rate: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_period_start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_period_end: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_period: Option<DateRange>,
    pub index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_id: Option<String>,
    pub rate_display: RateDisplay,
    pub external_ids: Vec<ExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_classification: Option<RevenueClassification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_grant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_recognition_method: Option<RevenueRecognitionMethod>,
}
