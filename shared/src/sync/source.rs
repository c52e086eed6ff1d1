//! The port the sync algorithm reads Sequence through, and the small documents it needs.
//!
//! Why a port of our own rather than the Sequence client's models: the algorithm must be testable
//! with an in-memory fake (faults, mutations between pages, equal timestamps), and it needs only a
//! sliver of each Sequence object. The listing calls mirror Sequence's API one page at a time
//! (`sortOrder=ASC`, status filter, `invoiceAfter` / `sentAfter` dates, an opaque `after` token), so
//! the adapter from the real client is a thin field mapping. [`PageToken`] deliberately has no serde
//! implementation: a page token is never the long-term cursor (sync-and-security §1.8); the only
//! place it is persisted is a pass's short-lived resume point, through `cursor::ResumeToken`.
//!
//! Listings are decoded item by item: a page carries the documents that decoded and the
//! [`Rejected`] ones, so one document we cannot read never hides the rest of its page.

use crate::domain::Decimal;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// One postal address from the source to the ledger: Sequence's `Address1` with every part optional
/// (completeness is judged by the ledger).
pub use crate::ledger::PostalAddress;
/// A listed document that did not decode (quarantined by the sync, the rest of its page imported).
pub use crate::sequence::decode::Rejected;
/// One vocabulary: the Sequence enums are the client's (unknown values kept as `Other`).
pub use crate::sequence::models::{CreditNoteStatus, InvoiceStatus, TaxStatus};

/// One `linkedServices` entry. A `Sphere` entry carries our tax calculation id in `external_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedService {
    pub external_service: String,
    pub external_id: String,
}

/// `GET /products` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceProduct {
    pub id: String,
    pub name: String,
    pub tax_category_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `GET /customers` item (Sequence has no `updatedAt` on customers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCustomer {
    pub id: String,
    pub legal_name: String,
    pub created_at: Option<DateTime<Utc>>,
    pub address: Option<PostalAddress>,
    pub tax_status: TaxStatus,
    /// From `/tax-registrations/for-customer/{id}` when the adapter fetches them; may be empty.
    pub tax_ids: Vec<String>,
    pub archived: bool,
}

/// `GET /invoices` item: the fields the ledger needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInvoice {
    pub id: String,
    pub number: Option<String>,
    pub status: InvoiceStatus,
    /// ISO 4217 code as sent (validated by the mapping; unknown → quarantine).
    pub currency: String,
    pub issue_date: Option<NaiveDate>,
    pub accounting_date: Option<NaiveDate>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub customer_id: String,
    pub customer_name: String,
    pub billing_address: Option<PostalAddress>,
    pub shipping_address: Option<PostalAddress>,
    pub customer_tax_status: Option<TaxStatus>,
    pub customer_tax_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub linked_services: Vec<LinkedService>,
}

/// `GET /credit-notes` item (no `createdAt`, `updatedAt` or `customerTaxStatus` in Sequence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCreditNote {
    pub id: String,
    pub number: Option<String>,
    pub status: CreditNoteStatus,
    /// The credited invoice, when the note was created against one.
    pub invoice_id: Option<String>,
    pub currency: String,
    pub issue_date: Option<NaiveDate>,
    pub accounting_date: Option<NaiveDate>,
    pub customer_id: String,
    pub customer_name: String,
    pub billing_address: Option<PostalAddress>,
    pub shipping_address: Option<PostalAddress>,
    pub customer_tax_id: Option<String>,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    pub linked_services: Vec<LinkedService>,
}

/// A line of an invoice or a credit note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLine {
    pub id: String,
    pub product_id: Option<String>,
    pub title: String,
    pub quantity: Decimal,
    pub net_total: Decimal,
    pub total_tax: Decimal,
    pub gross_total: Decimal,
    /// Credit-note lines: `lineItemId`, the credited invoice line.
    pub credited_line_id: Option<String>,
}

/// Opaque continuation token of one listing. It has no serde implementation on purpose: only
/// `cursor::ResumeToken` (with its age limit) may carry one across invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken(pub String);

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePage<T> {
    pub items: Vec<T>,
    /// Items of this page that did not decode.
    pub rejected: Vec<Rejected>,
    /// `None` on the last page.
    pub next: Option<PageToken>,
}

/// `GET /invoices` filters the algorithm uses; the order is always `sortOrder=ASC` (creation time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceQuery {
    /// `invoiceStatus`; `None` lists every status (reconciliation).
    pub status: Option<InvoiceStatus>,
    /// `invoiceAfter` (issue date, `yyyy-MM-dd`). The algorithm assumes nothing about inclusivity.
    pub invoice_after: Option<NaiveDate>,
    /// `invoiceBefore` (issue date), bounding a date slice; inclusivity likewise unknown.
    pub invoice_before: Option<NaiveDate>,
}

/// `GET /credit-notes` filters; always `sortOrder=ASC`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreditNoteQuery {
    /// `creditNoteStatus`; `None` lists every status.
    pub status: Option<CreditNoteStatus>,
    /// `sentAfter` (`yyyy-MM-dd`).
    pub sent_after: Option<NaiveDate>,
    /// `sentBefore` (`yyyy-MM-dd`).
    pub sent_before: Option<NaiveDate>,
}

/// Why a source call failed. The adapter maps HTTP outcomes here after its own bounded retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// 401: the credentials are wrong or rotated.
    #[error("Sequence rejected the credentials")]
    Unauthorized,
    /// 429 after the client's own retries; `retry_after` from the response when present.
    #[error("Sequence is throttling (retry after {retry_after:?})")]
    Throttled { retry_after: Option<Duration> },
    /// 5xx, timeouts, connection failures after the client's own retries.
    #[error("Sequence unavailable: {0}")]
    Unavailable(String),
    /// The adapter has no time left for the call before the invocation deadline.
    #[error("no time left for another Sequence call")]
    OutOfTime,
    /// 404 on a document or on its line items: it is gone, or not visible to this key.
    #[error("Sequence has no such document (404)")]
    NotFound,
    /// Another 4xx (bad filter, expired page token, …): retrying the same call cannot help. On a
    /// continuation page the algorithm restarts that listing once (an expired token), else fails fast.
    #[error("Sequence refused the request: {0}")]
    Client(String),
    #[error("Sequence call failed: {0}")]
    Other(String),
}

/// Result of one source call.
pub type SourceResult<T> = Result<SourcePage<T>, SourceError>;

/// Result of fetching one document by id: the document, or why it did not decode.
pub type FetchResult<T> = Result<Result<T, Rejected>, SourceError>;

/// The read side of Sequence, one page per call. Implemented by the adapter over the Sequence
/// client and by `sequence_sim::fake::FakeSource` in tests.
pub trait SequenceSource: Send + Sync {
    /// `GET /products?sortOrder=ASC&after=…`
    fn list_products(&self, after: Option<&PageToken>) -> impl Future<Output = SourceResult<SourceProduct>> + Send;
    /// `GET /customers?sortOrder=ASC&after=…` (tax ids filled by the adapter when it has them).
    fn list_customers(&self, after: Option<&PageToken>) -> impl Future<Output = SourceResult<SourceCustomer>> + Send;
    /// `GET /invoices?sortOrder=ASC&invoiceStatus=…&invoiceAfter=…&invoiceBefore=…&after=…`
    fn list_invoices(
        &self,
        query: &InvoiceQuery,
        after: Option<&PageToken>,
    ) -> impl Future<Output = SourceResult<SourceInvoice>> + Send;
    /// `GET /invoices/{id}/line-items?after=…`
    fn invoice_line_items(
        &self,
        invoice_id: &str,
        after: Option<&PageToken>,
    ) -> impl Future<Output = SourceResult<SourceLine>> + Send;
    /// `GET /credit-notes?sortOrder=ASC&creditNoteStatus=…&sentAfter=…&sentBefore=…&after=…`
    fn list_credit_notes(
        &self,
        query: &CreditNoteQuery,
        after: Option<&PageToken>,
    ) -> impl Future<Output = SourceResult<SourceCreditNote>> + Send;
    /// `GET /credit-notes/{id}/line-items?after=…`
    fn credit_note_line_items(
        &self,
        credit_note_id: &str,
        after: Option<&PageToken>,
    ) -> impl Future<Output = SourceResult<SourceLine>> + Send;
    /// `GET /products/{id}` (quarantine retries).
    fn get_product(&self, id: &str) -> impl Future<Output = FetchResult<SourceProduct>> + Send;
    /// `GET /customers/{id}` (and its tax registrations, as the listing).
    fn get_customer(&self, id: &str) -> impl Future<Output = FetchResult<SourceCustomer>> + Send;
    /// `GET /invoices/{id}`.
    fn get_invoice(&self, id: &str) -> impl Future<Output = FetchResult<SourceInvoice>> + Send;
    /// `GET /credit-notes/{id}`.
    fn get_credit_note(&self, id: &str) -> impl Future<Output = FetchResult<SourceCreditNote>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_are_kept() {
        assert_eq!(InvoiceStatus::parse("SENT"), InvoiceStatus::Sent);
        assert_eq!(InvoiceStatus::parse("IN_PROGRESS"), InvoiceStatus::InProgress);
        let other = InvoiceStatus::parse("PAID_OUT");
        assert_eq!(other, InvoiceStatus::Other("PAID_OUT".into()));
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"PAID_OUT\"");
        let back: TaxStatus = serde_json::from_str("\"REVERSE_CHARGED\"").unwrap();
        assert_eq!(back, TaxStatus::ReverseCharged);
    }
}
