//! Listing as Sequence documents it: filters, `limit` 1–100, default order newest-created first
//! (`sortOrder=ASC` supported), and opaque cursors. Cursors are keysets `(createdAt, insertion seq)`,
//! so pages stay complete and non-overlapping even when hundreds of documents share one timestamp;
//! they also carry an epoch so the fault injector can expire every outstanding cursor at once.

use super::state::{SimError, World};
use crate::domain::Currency;
use crate::sequence::models::*;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

pub type Params = HashMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Asc,
    Desc,
}

/// Sort key of a listed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub created_ms: i64,
    pub seq: u64,
}

impl Key {
    pub fn new(created: DateTime<Utc>, seq: u64) -> Self {
        Key { created_ms: created.timestamp_millis(), seq }
    }
}

fn encode_token(epoch: u64, order: Order, k: Key) -> String {
    let o = if order == Order::Asc { 'A' } else { 'D' };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{epoch}:{o}:{}:{}", k.created_ms, k.seq))
}

fn decode_token(t: &str, epoch: u64, order: Order) -> Result<Key, SimError> {
    let invalid = || SimError::bad_request("Invalid pagination token");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).map_err(|_| invalid())?;
    let s = String::from_utf8(raw).map_err(|_| invalid())?;
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 4 {
        return Err(invalid());
    }
    let e: u64 = parts[0].parse().map_err(|_| invalid())?;
    if e != epoch {
        return Err(SimError::bad_request("Pagination token has expired"));
    }
    let o = if parts[1] == "A" { Order::Asc } else { Order::Desc };
    if o != order {
        return Err(SimError::bad_request("Pagination token does not match sortOrder"));
    }
    Ok(Key { created_ms: parts[2].parse().map_err(|_| invalid())?, seq: parts[3].parse().map_err(|_| invalid())? })
}

fn order(p: &Params) -> Result<Order, SimError> {
    match p.get("sortOrder").map(|s| s.as_str()) {
        None | Some("DESC") => Ok(Order::Desc),
        Some("ASC") => Ok(Order::Asc),
        Some(o) => Err(SimError::bad_request(format!("Invalid sortOrder {o:?}: expected ASC or DESC"))),
    }
}

fn limit(p: &Params) -> Result<usize, SimError> {
    match p.get("limit") {
        None => Ok(20),
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(SimError::bad_request(format!("Invalid limit {l:?}: must be between 1 and 100"))),
        },
    }
}

fn date(p: &Params, name: &str) -> Result<Option<NaiveDate>, SimError> {
    p.get(name)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| SimError::bad_request(format!("Invalid {name} {v:?}: expected yyyy-MM-dd")))
        })
        .transpose()
}

/// Inclusive date bounds (Sequence does not document inclusivity; the simulator treats both as
/// inclusive). A missing value never matches a bound.
fn within(v: Option<NaiveDate>, after: Option<NaiveDate>, before: Option<NaiveDate>) -> bool {
    if after.is_none() && before.is_none() {
        return true;
    }
    match v {
        None => false,
        Some(d) => after.is_none_or(|a| d >= a) && before.is_none_or(|b| d <= b),
    }
}

fn enum_param<T: PartialEq>(
    p: &Params,
    name: &str,
    known: &[T],
    parse: impl Fn(&str) -> T,
) -> Result<Option<T>, SimError> {
    match p.get(name) {
        None => Ok(None),
        Some(v) => {
            let t = parse(v);
            if known.contains(&t) { Ok(Some(t)) } else { Err(SimError::bad_request(format!("Invalid {name} {v:?}"))) }
        }
    }
}

/// Orders, cuts after the cursor and builds the envelope.
pub fn paginate<T: Serialize>(
    world: &World,
    p: &Params,
    mut items: Vec<(Key, T)>,
) -> Result<serde_json::Value, SimError> {
    let order = order(p)?;
    let limit = limit(p)?;
    items.sort_by(|a, b| if order == Order::Asc { a.0.cmp(&b.0) } else { b.0.cmp(&a.0) });
    let total = items.len();
    let after_param = p.get("after").filter(|s| !s.is_empty());
    let before_param = p.get("before").filter(|s| !s.is_empty());
    let epoch = world.token_epoch;
    let keep_after = |x: &Key, k: &Key| if order == Order::Asc { x > k } else { x < k };
    let (page, more): (Vec<(Key, T)>, bool) = if let Some(t) = before_param {
        let k = decode_token(t, epoch, order)?;
        let mut prev: Vec<(Key, T)> = items.into_iter().filter(|(x, _)| keep_after(&k, x)).collect();
        let start = prev.len().saturating_sub(limit);
        // The cursor's own item follows a `before` page, so there is always a next page.
        (prev.split_off(start), true)
    } else {
        let mut v: Vec<(Key, T)> = match after_param {
            Some(t) => {
                let k = decode_token(t, epoch, order)?;
                items.into_iter().filter(|(x, _)| keep_after(x, &k)).take(limit + 1).collect()
            }
            None => items.into_iter().take(limit + 1).collect(),
        };
        let more = v.len() > limit;
        v.truncate(limit);
        (v, more)
    };
    let next = if world.faults.repeat_page_tokens && after_param.is_some() {
        after_param.cloned()
    } else if more {
        page.last().map(|(k, _)| encode_token(epoch, order, *k))
    } else {
        None
    };
    let prev = if after_param.is_some() || before_param.is_some() {
        page.first().map(|(k, _)| encode_token(epoch, order, *k))
    } else {
        None
    };
    let items: Vec<&T> = page.iter().map(|(_, t)| t).collect();
    Ok(serde_json::json!({
        "items": items,
        "pagination": { "after": next, "before": prev, "totalResultSize": total }
    }))
}

pub fn sequence_accounts(w: &World, a: usize, p: &Params) -> Result<serde_json::Value, SimError> {
    let acc = &w.accounts[a];
    let created = acc.info.created_at.unwrap_or_default();
    paginate(w, p, vec![(Key::new(created, 0), acc.info.clone())])
}

pub fn customers(w: &World, a: usize, p: &Params) -> Result<serde_json::Value, SimError> {
    let include_archived = p.get("includeArchived").is_some_and(|v| v == "true");
    let name = p.get("legalName").map(|s| s.to_lowercase());
    let items = w.accounts[a]
        .customers
        .iter()
        .filter(|c| include_archived || c.item.archived_at.is_none())
        .filter(|c| name.as_ref().is_none_or(|n| c.item.legal_name.to_lowercase().contains(n)))
        .map(|c| (Key::new(c.created_at, c.seq), c.item.clone()))
        .collect();
    paginate(w, p, items)
}

pub fn products(w: &World, a: usize, p: &Params) -> Result<serde_json::Value, SimError> {
    let name = p.get("name").map(|s| s.to_lowercase());
    let items = w.accounts[a]
        .products
        .iter()
        .filter(|x| name.as_ref().is_none_or(|n| x.item.name.to_lowercase().contains(n)))
        .map(|x| (Key::new(x.created_at, x.seq), x.item.clone()))
        .collect();
    paginate(w, p, items)
}

pub fn tax_registrations(w: &World, a: usize, customer_id: &str) -> Result<serde_json::Value, SimError> {
    let acc = &w.accounts[a];
    if !acc.customers.iter().any(|c| c.item.id == customer_id) {
        return Err(SimError::not_found("customer", customer_id));
    }
    let items: Vec<&TaxRegistration> =
        acc.tax_registrations.iter().filter(|r| r.customer_id.as_deref() == Some(customer_id)).collect();
    Ok(
        serde_json::json!({ "items": items, "pagination": { "after": null, "before": null, "totalResultSize": items.len() } }),
    )
}

pub fn invoices(w: &World, a: usize, p: &Params) -> Result<serde_json::Value, SimError> {
    let status = enum_param(p, "invoiceStatus", InvoiceStatus::KNOWN, |v: &str| InvoiceStatus::from(v))?;
    let exclude_status = enum_param(p, "excludeInvoiceStatus", InvoiceStatus::KNOWN, |v: &str| InvoiceStatus::from(v))?;
    let pay = enum_param(p, "invoicePaymentStatus", PaymentStatus::KNOWN, |v: &str| PaymentStatus::from(v))?;
    let (ia, ib) = (date(p, "invoiceAfter")?, date(p, "invoiceBefore")?);
    let (sa, sb) = (date(p, "sentAfter")?, date(p, "sentBefore")?);
    let (da, db) = (date(p, "dueAfter")?, date(p, "dueBefore")?);
    let currencies: Option<Vec<Currency>> = p
        .get("invoiceCurrency")
        .map(|v| {
            v.split(',')
                .map(|c| {
                    Currency::parse(c).map_err(|_| SimError::bad_request(format!("Invalid invoiceCurrency {c:?}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let customer = p.get("customerId");
    let number = p.get("invoiceNumber");
    let items = w.accounts[a]
        .invoices
        .iter()
        .filter(|r| status.as_ref().is_none_or(|s| &r.invoice.status == s))
        .filter(|r| exclude_status.as_ref().is_none_or(|s| &r.invoice.status != s))
        .filter(|r| pay.as_ref().is_none_or(|s| r.invoice.payment_status.as_ref() == Some(s)))
        .filter(|r| customer.is_none_or(|c| &r.invoice.customer_id == c))
        .filter(|r| number.is_none_or(|n| r.invoice.invoice_number.as_ref() == Some(n)))
        .filter(|r| currencies.as_ref().is_none_or(|cs| cs.contains(&r.invoice.currency)))
        .filter(|r| within(r.invoice.issue_date, ia, ib))
        .filter(|r| within(r.sent_on, sa, sb))
        .filter(|r| within(r.invoice.due_date, da, db))
        .map(|r| (Key::new(r.invoice.created_at, r.seq), r.invoice.clone()))
        .collect();
    paginate(w, p, items)
}

pub fn credit_notes(w: &World, a: usize, p: &Params) -> Result<serde_json::Value, SimError> {
    let status = enum_param(p, "creditNoteStatus", CreditNoteStatus::KNOWN, |v: &str| CreditNoteStatus::from(v))?;
    let (sa, sb) = (date(p, "sentAfter")?, date(p, "sentBefore")?);
    let customer = p.get("customerId");
    let number = p.get("searchCreditNoteNumber");
    let items = w.accounts[a]
        .credit_notes
        .iter()
        .filter(|r| status.as_ref().is_none_or(|s| &r.credit_note.status == s))
        .filter(|r| customer.is_none_or(|c| &r.credit_note.customer_id == c))
        .filter(|r| {
            number.is_none_or(|n| r.credit_note.credit_note_number.as_ref().is_some_and(|x| x.contains(n.as_str())))
        })
        .filter(|r| within(r.sent_on, sa, sb))
        .map(|r| (Key::new(r.created_at, r.seq), r.credit_note.clone()))
        .collect();
    paginate(w, p, items)
}

/// Line items are listed in `index` order (ASC by default, as Sequence renders them).
pub fn invoice_lines(w: &World, a: usize, id: &str, p: &Params) -> Result<serde_json::Value, SimError> {
    let rec =
        w.accounts[a].invoices.iter().find(|r| r.invoice.id == id).ok_or_else(|| SimError::not_found("invoice", id))?;
    let items = rec.lines.iter().map(|l| (Key { created_ms: l.index, seq: 0 }, l.clone())).collect();
    let mut p = p.clone();
    p.entry("sortOrder".into()).or_insert_with(|| "ASC".into());
    paginate(w, &p, items)
}

pub fn credit_note_lines(w: &World, a: usize, id: &str, p: &Params) -> Result<serde_json::Value, SimError> {
    let rec = w.accounts[a]
        .credit_notes
        .iter()
        .find(|r| r.credit_note.id == id)
        .ok_or_else(|| SimError::not_found("credit note", id))?;
    let items = rec.lines.iter().map(|l| (Key { created_ms: l.index.unwrap_or(0), seq: 0 }, l.clone())).collect();
    let mut p = p.clone();
    p.entry("sortOrder".into()).or_insert_with(|| "ASC".into());
    paginate(w, &p, items)
}
