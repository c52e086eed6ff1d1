//! Source documents → ledger records (pure). Decides what is imported, as what, and what is
//! quarantined: invoice FINAL/SENT → sale, VOIDED → the sale cancelled (a new version); credit note
//! FINAL/SENT → refund of its invoice, VOIDED → the refund cancelled; DRAFT/IN_PROGRESS → not
//! imported; any value we do not know (status, tax status, currency, over-precise amount, missing
//! date) → quarantine with a reason, never a silent drop.
//!
//! Why IN_PROGRESS is not imported: Sequence documents it as a status of invoices and credit notes
//! that are still being generated (a billing run or calculation is under way); amounts and lines may
//! still change and nothing has been issued to the customer, so there is no tax point yet, exactly
//! like DRAFT. It is counted as `not_imported` and imported when it becomes FINAL or SENT. A
//! document already in the ledger that is listed as DRAFT/IN_PROGRESS keeps its last issued version
//! (the ledger records what was issued; Sequence's path back is a void, which is imported).

use super::source::{
    CreditNoteStatus, InvoiceStatus, LinkedService, SourceCreditNote, SourceCustomer, SourceInvoice, SourceLine,
    SourceProduct, TaxStatus,
};
use crate::crypto::sha256_hex;
use crate::domain::{Currency, Decimal};
use crate::ledger::model::{
    CustomerRecord, CustomerSnapshot, CustomerTaxStatus, DocKind, LedgerLine, PostalAddress, ProductRecord, TxnContent,
    TxnStatus, TxnType,
};
use crate::ledger::region::{choose_address, region_of};
use serde::Serialize;

/// What to do with a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped<T> {
    Import(T),
    /// DRAFT / IN_PROGRESS: not a transaction (yet).
    NotImported,
    /// Could not be mapped; the reason is stored with the document.
    Quarantine(String),
}

/// SHA-256 of the value's JSON (field order is the struct's, so stable across runs).
pub fn hash_of<T: Serialize + ?Sized>(v: &T) -> String {
    match serde_json::to_vec(v) {
        Ok(bytes) => sha256_hex(&bytes),
        // Our document types always serialise; a failure would only make every hash differ (a rewrite, not a loss).
        Err(e) => sha256_hex(e.to_string().as_bytes()),
    }
}

/// Hash of a document header together with its lines.
pub fn content_hash<T: Serialize>(header: &T, lines: &[SourceLine]) -> String {
    hash_of(&(header, lines))
}

/// An invoice's content for change detection: everything except `updatedAt`, which also moves on
/// changes the ledger does not import (payment status, dunning, …).
pub fn invoice_content_hash(inv: &SourceInvoice, lines: &[SourceLine]) -> String {
    let mut v = inv.clone();
    v.updated_at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    content_hash(&v, lines)
}

/// Does an invoice need importing at all (before any line-item request)?
pub fn invoice_disposition(status: &InvoiceStatus) -> Mapped<(TxnType, TxnStatus)> {
    match status {
        InvoiceStatus::Final | InvoiceStatus::Sent => Mapped::Import((TxnType::Sale, TxnStatus::Active)),
        InvoiceStatus::Voided => Mapped::Import((TxnType::Sale, TxnStatus::Cancelled)),
        InvoiceStatus::Draft | InvoiceStatus::InProgress => Mapped::NotImported,
        InvoiceStatus::Other(s) => Mapped::Quarantine(format!("unknown invoice status {s:?}")),
    }
}

pub fn credit_note_disposition(status: &CreditNoteStatus) -> Mapped<(TxnType, TxnStatus)> {
    match status {
        CreditNoteStatus::Final | CreditNoteStatus::Sent => Mapped::Import((TxnType::Refund, TxnStatus::Active)),
        CreditNoteStatus::Voided => Mapped::Import((TxnType::Refund, TxnStatus::Cancelled)),
        CreditNoteStatus::Draft | CreditNoteStatus::InProgress => Mapped::NotImported,
        CreditNoteStatus::Other(s) => Mapped::Quarantine(format!("unknown credit note status {s:?}")),
    }
}

pub fn tax_status(s: &TaxStatus) -> Result<CustomerTaxStatus, String> {
    match s {
        TaxStatus::Taxed => Ok(CustomerTaxStatus::Taxed),
        TaxStatus::TaxExempt => Ok(CustomerTaxStatus::TaxExempt),
        TaxStatus::ReverseCharged => Ok(CustomerTaxStatus::ReverseCharged),
        TaxStatus::Other(o) => Err(format!("unknown customer tax status {o:?}")),
    }
}

/// The Sphere entry of `linkedServices`: our tax calculation id.
pub fn calculation_id(linked: &[LinkedService]) -> Option<String> {
    linked
        .iter()
        .find(|l| l.external_service.eq_ignore_ascii_case("sphere") && !l.external_id.is_empty())
        .map(|l| l.external_id.clone())
}

/// Every amount fits the currency. The reason names the rule, not the amount (quarantine reasons are
/// shown in the console and must not repeat document values).
fn check_amounts(currency: Currency, amounts: impl IntoIterator<Item = Decimal>) -> Result<(), String> {
    for a in amounts {
        currency.to_minor(a).map_err(|e| match e {
            crate::domain::MoneyError::TooPrecise { currency, exponent, .. } => {
                format!("an amount has more decimal places than {currency} allows ({exponent})")
            }
            crate::domain::MoneyError::Overflow(_) => "an amount is too large".to_owned(),
        })?;
    }
    Ok(())
}

/// The tax status a document is taxed under, resolved by the caller when the document has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedTaxStatus {
    pub status: CustomerTaxStatus,
    pub inferred: bool,
}

/// Fields common to invoices and credit notes.
struct Header<'a> {
    kind: DocKind,
    id: &'a str,
    number: &'a Option<String>,
    source_status: &'a str,
    currency: &'a str,
    issue_date: Option<chrono::NaiveDate>,
    accounting_date: Option<chrono::NaiveDate>,
    customer_id: &'a str,
    customer_name: &'a str,
    billing: Option<&'a PostalAddress>,
    shipping: Option<&'a PostalAddress>,
    tax_id: &'a Option<String>,
    totals: [Decimal; 3],
    linked: &'a [LinkedService],
}

fn build(
    h: Header<'_>,
    lines: &[SourceLine],
    kinds: (TxnType, TxnStatus),
    tax: ResolvedTaxStatus,
    versions: (String, Option<chrono::DateTime<chrono::Utc>>, String, String),
) -> Result<TxnContent, String> {
    let currency = Currency::parse(h.currency).map_err(|e| e.to_string())?;
    let [net_total, tax_total, gross_total] = h.totals;
    check_amounts(currency, h.totals)?;
    check_amounts(currency, lines.iter().flat_map(|l| [l.net_total, l.total_tax, l.gross_total]))?;
    let event_date = h.issue_date.or(h.accounting_date).ok_or("no issue date and no accounting date")?;
    let (addr, address_source) = choose_address(h.shipping, h.billing);
    let region = addr.as_ref().and_then(region_of);
    let taxed = tax.status == CustomerTaxStatus::Taxed;
    let ledger_lines: Vec<LedgerLine> = lines
        .iter()
        .map(|l| LedgerLine {
            line_id: l.id.clone(),
            product_id: l.product_id.clone(),
            title: l.title.clone(),
            tax_code: None,
            quantity: l.quantity,
            net: l.net_total,
            discount: Decimal::ZERO,
            taxable: if taxed { l.net_total } else { Decimal::ZERO },
            tax_collected: l.total_tax,
            tax_calculated: None,
            gross: l.gross_total,
            credited_line_id: l.credited_line_id.clone(),
        })
        .collect();
    let taxable_total = if lines.is_empty() {
        if taxed { net_total } else { Decimal::ZERO }
    } else {
        ledger_lines.iter().map(|l| l.taxable).sum()
    };
    let (source_version, source_updated_at, header_hash, content_hash) = versions;
    Ok(TxnContent {
        kind: h.kind,
        source_id: h.id.to_owned(),
        number: h.number.clone(),
        txn_type: kinds.0,
        status: kinds.1,
        source_status: h.source_status.to_owned(),
        currency,
        event_date,
        issue_date: h.issue_date,
        accounting_date: h.accounting_date,
        customer: CustomerSnapshot {
            id: h.customer_id.to_owned(),
            name: h.customer_name.to_owned(),
            address: addr,
            address_source,
            tax_status: tax.status,
            tax_status_inferred: tax.inferred,
            tax_id: h.tax_id.clone(),
        },
        region,
        refunded_invoice_id: None,
        calculation_id: calculation_id(h.linked),
        net_total,
        tax_total,
        gross_total,
        taxable_total,
        tax_calculated_total: None,
        jurisdictions: Vec::new(),
        lines: ledger_lines,
        source_version,
        source_updated_at,
        header_hash,
        content_hash,
    })
}

/// Invoice + its lines → a sale (or its cancellation). `fallback` is used when the invoice carries
/// no `customerTaxStatus` (the customer record's, else Sequence's default TAXED).
pub fn invoice_txn(
    inv: &SourceInvoice,
    lines: &[SourceLine],
    fallback: Option<CustomerTaxStatus>,
) -> Mapped<TxnContent> {
    let kinds = match invoice_disposition(&inv.status) {
        Mapped::Import(k) => k,
        Mapped::NotImported => return Mapped::NotImported,
        Mapped::Quarantine(r) => return Mapped::Quarantine(r),
    };
    let tax = match &inv.customer_tax_status {
        Some(s) => match tax_status(s) {
            Ok(status) => ResolvedTaxStatus { status, inferred: false },
            Err(r) => return Mapped::Quarantine(r),
        },
        None => ResolvedTaxStatus { status: fallback.unwrap_or(CustomerTaxStatus::Taxed), inferred: true },
    };
    let header = Header {
        kind: DocKind::Invoice,
        id: &inv.id,
        number: &inv.number,
        source_status: inv.status.as_str(),
        currency: &inv.currency,
        issue_date: inv.issue_date,
        accounting_date: inv.accounting_date,
        customer_id: &inv.customer_id,
        customer_name: &inv.customer_name,
        billing: inv.billing_address.as_ref(),
        shipping: inv.shipping_address.as_ref(),
        tax_id: &inv.customer_tax_id,
        totals: [inv.net_total, inv.total_tax, inv.gross_total],
        linked: &inv.linked_services,
    };
    let versions = (inv.updated_at.to_rfc3339(), Some(inv.updated_at), hash_of(inv), invoice_content_hash(inv, lines));
    match build(header, lines, kinds, tax, versions) {
        Ok(t) => Mapped::Import(t),
        Err(r) => Mapped::Quarantine(r),
    }
}

/// Credit note + its lines → a refund of its invoice (or its cancellation). Credit notes carry no
/// tax status: `tax` is the linked invoice's, else the customer's, else TAXED (inferred).
pub fn credit_note_txn(cn: &SourceCreditNote, lines: &[SourceLine], tax: ResolvedTaxStatus) -> Mapped<TxnContent> {
    let kinds = match credit_note_disposition(&cn.status) {
        Mapped::Import(k) => k,
        Mapped::NotImported => return Mapped::NotImported,
        Mapped::Quarantine(r) => return Mapped::Quarantine(r),
    };
    let header = Header {
        kind: DocKind::Credit,
        id: &cn.id,
        number: &cn.number,
        source_status: cn.status.as_str(),
        currency: &cn.currency,
        issue_date: cn.issue_date,
        accounting_date: cn.accounting_date,
        customer_id: &cn.customer_id,
        customer_name: &cn.customer_name,
        billing: cn.billing_address.as_ref(),
        shipping: cn.shipping_address.as_ref(),
        tax_id: &cn.customer_tax_id,
        totals: [cn.net_total, cn.total_tax, cn.gross_total],
        linked: &cn.linked_services,
    };
    let content = content_hash(cn, lines);
    let versions = (format!("sha256:{content}"), None, hash_of(cn), content);
    match build(header, lines, kinds, tax, versions) {
        Ok(mut t) => {
            t.refunded_invoice_id = cn.invoice_id.clone();
            Mapped::Import(t)
        }
        Err(r) => Mapped::Quarantine(r),
    }
}

pub fn product_record(p: &SourceProduct) -> ProductRecord {
    ProductRecord {
        id: p.id.clone(),
        name: p.name.clone(),
        tax_category_id: p.tax_category_id.clone(),
        updated_at: p.updated_at,
        tax_code: None,
        content_hash: hash_of(p),
    }
}

pub fn customer_record(c: &SourceCustomer) -> Mapped<CustomerRecord> {
    let status = match tax_status(&c.tax_status) {
        Ok(s) => s,
        Err(r) => return Mapped::Quarantine(r),
    };
    let addr = c.address.clone();
    Mapped::Import(CustomerRecord {
        id: c.id.clone(),
        legal_name: c.legal_name.clone(),
        region: addr.as_ref().and_then(region_of),
        address: addr,
        tax_status: status,
        tax_ids: c.tax_ids.clone(),
        archived: c.archived,
        content_hash: hash_of(c),
        // Sequence has no exemption scope; the ledger keeps the one set on our side (LedgerRepo::upsert_customer).
        exempt_jurisdictions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn inv(status: InvoiceStatus) -> SourceInvoice {
        SourceInvoice {
            id: "i1".into(),
            number: Some("INV-1".into()),
            status,
            currency: "USD".into(),
            issue_date: NaiveDate::from_ymd_opt(2026, 1, 5),
            accounting_date: None,
            created_at: None,
            updated_at: Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(),
            customer_id: "c1".into(),
            customer_name: "Acme".into(),
            billing_address: Some(PostalAddress {
                line1: Some("1 Main".into()),
                postcode: Some("55401".into()),
                country: Some("US".into()),
                state: Some("MN".into()),
                ..Default::default()
            }),
            shipping_address: None,
            customer_tax_status: Some(TaxStatus::Taxed),
            customer_tax_id: None,
            net_total: Decimal::new(10000, 2),
            total_tax: Decimal::new(688, 2),
            gross_total: Decimal::new(10688, 2),
            linked_services: vec![LinkedService { external_service: "Sphere".into(), external_id: "calc-1".into() }],
        }
    }

    fn line() -> SourceLine {
        SourceLine {
            id: "l1".into(),
            product_id: Some("p1".into()),
            title: "Seat".into(),
            quantity: Decimal::ONE,
            net_total: Decimal::new(10000, 2),
            total_tax: Decimal::new(688, 2),
            gross_total: Decimal::new(10688, 2),
            credited_line_id: None,
        }
    }

    #[test]
    fn invoices_map_by_status() {
        let Mapped::Import(t) = invoice_txn(&inv(InvoiceStatus::Sent), &[line()], None) else { panic!() };
        assert_eq!((t.txn_type, t.status), (TxnType::Sale, TxnStatus::Active));
        assert_eq!(t.region.as_deref(), Some("US-MN"));
        assert_eq!(t.calculation_id.as_deref(), Some("calc-1"));
        assert_eq!(t.taxable_total, Decimal::new(10000, 2));
        let Mapped::Import(v) = invoice_txn(&inv(InvoiceStatus::Voided), &[line()], None) else { panic!() };
        assert_eq!(v.status, TxnStatus::Cancelled);
        assert_eq!(invoice_txn(&inv(InvoiceStatus::Draft), &[], None), Mapped::NotImported);
        assert!(matches!(invoice_txn(&inv(InvoiceStatus::parse("WEIRD")), &[], None), Mapped::Quarantine(_)));
    }

    #[test]
    fn bad_values_are_quarantined() {
        let mut i = inv(InvoiceStatus::Final);
        i.currency = "XYZ".into();
        assert!(matches!(invoice_txn(&i, &[], None), Mapped::Quarantine(_)));
        let mut i = inv(InvoiceStatus::Final);
        i.net_total = Decimal::new(10001, 3);
        assert!(matches!(invoice_txn(&i, &[], None), Mapped::Quarantine(_)));
        let mut i = inv(InvoiceStatus::Final);
        i.customer_tax_status = Some(TaxStatus::parse("PARTIAL"));
        assert!(matches!(invoice_txn(&i, &[], None), Mapped::Quarantine(_)));
        let mut i = inv(InvoiceStatus::Final);
        i.issue_date = None;
        assert!(matches!(invoice_txn(&i, &[], None), Mapped::Quarantine(_)));
    }

    #[test]
    fn exempt_customers_have_no_taxable_amount_and_hashes_track_lines() {
        let mut i = inv(InvoiceStatus::Final);
        i.customer_tax_status = Some(TaxStatus::TaxExempt);
        let Mapped::Import(t) = invoice_txn(&i, &[line()], None) else { panic!() };
        assert_eq!(t.taxable_total, Decimal::ZERO);
        let mut l2 = line();
        l2.title = "Other".into();
        assert_ne!(content_hash(&i, &[line()]), content_hash(&i, &[l2]));
        assert_eq!(hash_of(&i), hash_of(&i.clone()));
    }
}
