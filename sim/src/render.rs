//! What a stored document looks like when served. Why at serve time: an invoice's applied credit
//! notes, balance and `isCustomerArchived` depend on other documents (its credit notes, payments and
//! customer), so deriving them on each read keeps them consistent whatever changed in between. Raw
//! patches (see `raw`) are applied last, to the JSON.

use crate::SimError;
use crate::money;
use crate::raw::Resource;
use crate::wire::{
    AppliedCreditNote, AppliedCreditNoteLineItem, CreditNoteStatus, Invoice, InvoiceResponse, InvoiceStatus,
};
use crate::world::{Account, InvoiceRec};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

/// The credit notes applied to an invoice (issued FINAL or SENT against it).
pub fn applied_credit_notes(acc: &Account, rec: &InvoiceRec) -> Vec<AppliedCreditNote> {
    rec.invoice
        .credit_note_ids
        .iter()
        .filter_map(|id| acc.credit_notes.get(id))
        .filter(|c| matches!(c.credit_note.status, CreditNoteStatus::Final | CreditNoteStatus::Sent))
        .map(|c| AppliedCreditNote {
            id: c.credit_note.id.clone(),
            credit_note_number: c.credit_note.credit_note_number.clone(),
            net_total: c.credit_note.net_total,
            total_tax: c.credit_note.total_tax,
            gross_total: c.credit_note.gross_total,
            line_items: c
                .lines
                .iter()
                .map(|l| AppliedCreditNoteLineItem {
                    name: l.title.clone(),
                    net_total: l.net_total,
                    gross_total: l.gross_total,
                    invoice_line_item_ids: l.line_item_id.iter().cloned().collect(),
                })
                .collect(),
        })
        .collect()
}

/// What is still owed: gross total less applied credit notes and payments, never below zero; zero
/// once voided.
pub fn balance(acc: &Account, rec: &InvoiceRec) -> Decimal {
    let code = rec.invoice.currency.as_str();
    if rec.invoice.status == InvoiceStatus::Voided {
        return money::round(Decimal::ZERO, code);
    }
    let credited: Decimal = applied_credit_notes(acc, rec).iter().map(|c| c.gross_total).sum();
    let paid: Decimal = rec.detail.payment_allocations.iter().map(|p| p.amount).sum();
    money::round((rec.invoice.gross_total - credited - paid).max(Decimal::ZERO), code)
}

/// The `GET /invoices` item.
pub fn invoice(acc: &Account, rec: &InvoiceRec) -> Invoice {
    let mut inv = rec.invoice.clone();
    inv.is_customer_archived = acc.customers.get(&inv.customer_id).is_some_and(|c| c.customer.archived_at.is_some());
    inv
}

/// The `GET /invoices/{id}` response.
pub fn invoice_response(acc: &Account, rec: &InvoiceRec) -> InvoiceResponse {
    let mut detail = rec.detail.clone();
    detail.applied_credit_notes = applied_credit_notes(acc, rec);
    let issued = !matches!(rec.invoice.status, InvoiceStatus::Draft | InvoiceStatus::InProgress);
    detail.balance = issued.then(|| balance(acc, rec));
    detail.balance_version = issued.then(|| {
        i64::try_from(1 + detail.applied_credit_notes.len() + detail.payment_allocations.len()).unwrap_or(i64::MAX)
    });
    InvoiceResponse { invoice: invoice(acc, rec), detail }
}

/// Serialises a served document and applies its raw patch, if any.
pub fn served<T: Serialize>(acc: &Account, resource: Resource, id: &str, doc: &T) -> Result<Value, SimError> {
    let mut v = serde_json::to_value(doc).map_err(|e| SimError::internal(format!("serialisation failed: {e}")))?;
    if let Some(p) = acc.raw_patches.get(resource, id) {
        p.apply(&mut v);
    }
    Ok(v)
}
