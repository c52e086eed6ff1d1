//! Ledger records (pure data). Amounts are `Decimal` in major units of the transaction currency;
//! refunds are stored with the positive amounts Sequence sends and signed only in reports.

use crate::domain::{Currency, Decimal};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Which Sequence document a transaction comes from (also the key segment: `invoice` / `credit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Invoice,
    Credit,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Invoice => "invoice",
            DocKind::Credit => "credit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnType {
    Sale,
    Refund,
}

/// `Cancelled` = the document was voided in Sequence (kept as a version, excluded from sums).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnStatus {
    Active,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerTaxStatus {
    Taxed,
    TaxExempt,
    ReverseCharged,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub town: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
}

/// Which of the document's addresses the ledger used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    Shipping,
    Billing,
    None,
}

/// The customer as the document snapshotted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSnapshot {
    pub id: String,
    pub name: String,
    pub address: Option<PostalAddress>,
    pub address_source: AddressSource,
    pub tax_status: CustomerTaxStatus,
    /// True when the document carried no tax status and it was taken from the linked invoice, the
    /// customer record or Sequence's default (TAXED).
    pub tax_status_inferred: bool,
    pub tax_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub line_id: String,
    pub product_id: Option<String>,
    pub title: String,
    /// Our product tax code, once the user assigned one (filled by a later step).
    pub tax_code: Option<String>,
    pub quantity: Decimal,
    /// Net of discounts, as Sequence reports it.
    pub net: Decimal,
    /// Sequence exposes no per-line discount; zero unless a later mapping derives one.
    pub discount: Decimal,
    /// Net for a taxed customer, zero for exempt / reverse-charged customers.
    pub taxable: Decimal,
    /// `totalTax` of the line: what Sequence put on the document.
    pub tax_collected: Decimal,
    /// What our tax endpoint calculated for this line, once matched through `calculation_id`.
    pub tax_calculated: Option<Decimal>,
    pub gross: Decimal,
    /// Credit-note line: the invoice line it credits.
    pub credited_line_id: Option<String>,
}

/// The content of one transaction version, as produced by the sync mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnContent {
    pub kind: DocKind,
    /// The Sequence document id.
    pub source_id: String,
    pub number: Option<String>,
    pub txn_type: TxnType,
    pub status: TxnStatus,
    /// Sequence's status string (FINAL, SENT, VOIDED).
    pub source_status: String,
    pub currency: Currency,
    /// Issue date, falling back to the accounting date.
    pub event_date: NaiveDate,
    pub issue_date: Option<NaiveDate>,
    pub accounting_date: Option<NaiveDate>,
    pub customer: CustomerSnapshot,
    /// `US-MN`, `CA-ON`, `DE`, … derived from the chosen address.
    pub region: Option<String>,
    /// Refunds: the credited invoice's Sequence id, when known.
    pub refunded_invoice_id: Option<String>,
    /// The `linkedServices` Sphere entry: our tax calculation id.
    pub calculation_id: Option<String>,
    pub net_total: Decimal,
    pub tax_total: Decimal,
    pub gross_total: Decimal,
    pub taxable_total: Decimal,
    /// Sum of `tax_calculated` once every line is matched.
    pub tax_calculated_total: Option<Decimal>,
    /// The matched calculation's tax per jurisdiction (state, county, city, district): what filing reports break
    /// down by. Empty until a calculation is matched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<JurisdictionTax>,
    /// Empty in a stored head whose lines live in chunk items.
    pub lines: Vec<LedgerLine>,
    /// `updatedAt` (invoices) or `sha256:<content hash>` (credit notes).
    pub source_version: String,
    pub source_updated_at: Option<DateTime<Utc>>,
    /// Hash of the document header alone (lets the sync skip the line-item request).
    pub header_hash: String,
    /// Hash of header + lines: equal hash = nothing to write.
    pub content_hash: String,
}

/// One jurisdiction's share of a transaction, from our calculation (positive amounts, like the document's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurisdictionTax {
    pub jurisdiction: String,
    /// `sales_tax`, `vat`, `gst`, …
    pub tax_type: String,
    /// Σ the amounts of the lines it taxed.
    pub taxable: Decimal,
    pub tax: Decimal,
}

/// What a version changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Cancelled,
    Reinstated,
}

/// One entry of a transaction's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    pub version: u32,
    pub change: Change,
    pub recorded_at_ms: i64,
    pub status: TxnStatus,
    pub source_status: String,
    pub source_version: String,
    pub content_hash: String,
    pub net_total: Decimal,
    pub tax_total: Decimal,
    pub gross_total: Decimal,
    pub line_count: usize,
}

/// The stored transaction: current content plus its history. `GET` by id returns it with lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnHead {
    pub txn: TxnContent,
    /// Current ledger version (1-based; grows with each change).
    pub version: u32,
    pub versions: Vec<VersionEntry>,
    /// Number of chunk items holding the lines (0 = inline).
    pub line_chunks: u32,
    pub line_count: usize,
}

/// A Sequence product as imported, with the tax code the user assigns in the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub id: String,
    pub name: String,
    pub tax_category_id: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Owned by the console; preserved by the sync.
    pub tax_code: Option<String>,
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub id: String,
    pub legal_name: String,
    pub address: Option<PostalAddress>,
    pub region: Option<String>,
    pub tax_status: CustomerTaxStatus,
    pub tax_ids: Vec<String>,
    pub archived: bool,
    pub content_hash: String,
    /// Where a `TaxExempt` status applies (`US-TX`, `DE`; see `shared::tax::Exemption::scoped`). Set by us, not by
    /// Sequence, and kept across syncs. Empty — including every record stored before this field existed — means
    /// exempt everywhere, which is what those records meant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exempt_jurisdictions: Vec<String>,
}

/// A document the sync could not decode or map (a shape our models do not read, unknown status or
/// enum value, bad currency, line items missing, …). Stored apart from the ledger, counted in the
/// run summary, re-evaluated whenever the document changes, and re-fetched by id at the start of
/// each cycle; it leaves the quarantine as soon as it imports. `reason` names the field and the
/// problem, never a value of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// `product`, `customer`, `invoice` or `credit`.
    pub kind: String,
    pub source_id: String,
    pub reason: String,
    pub content_hash: String,
    /// The document as received (JSON); `null` when it did not decode.
    pub document: serde_json::Value,
    pub recorded_at_ms: i64,
    /// Re-fetches by id that found it still unreadable.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_attempt_ms: i64,
}
