//! Listing as Sequence documents it: filters, `limit` 1–100, default order newest-created first
//! (`sortOrder=ASC` supported), and opaque cursors. Cursors are keysets `(createdAt, insertion seq)`,
//! so pages stay complete and non-overlapping even when hundreds of documents share one timestamp;
//! they also carry an epoch so the fault injector can expire every outstanding cursor at once. Only
//! the page being returned is rendered, so listing stays cheap with tens of thousands of documents.

use crate::raw::Resource;
use crate::render;
use crate::wire::{CreditNoteStatus, InvoiceStatus, Pagination, PaymentStatus};
use crate::world::{Account, World};
use crate::{SimError, document};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;

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
    match p.get("sortOrder").map(std::string::String::as_str) {
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

fn enum_param<T: FromStr>(p: &Params, name: &str) -> Result<Option<T>, SimError> {
    p.get(name).map(|v| v.parse::<T>().map_err(|_| SimError::bad_request(format!("Invalid {name} {v:?}")))).transpose()
}

/// The `n` first items in `order` (all of them when fewer), sorted: a selection, not a full sort, so
/// a page of 100 out of 20,000 costs one pass.
fn first_n<R>(mut items: Vec<(Key, &R)>, n: usize, cmp: impl Fn(&Key, &Key) -> std::cmp::Ordering) -> Vec<(Key, &R)> {
    if items.len() > n && n > 0 {
        items.select_nth_unstable_by(n - 1, |a, b| cmp(&a.0, &b.0));
        items.truncate(n);
    } else if n == 0 {
        items.clear();
    }
    items.sort_unstable_by(|a, b| cmp(&a.0, &b.0));
    items
}

/// Orders, cuts after the cursor, renders the page and builds the envelope.
pub fn paginate<R>(
    world: &World,
    p: &Params,
    items: Vec<(Key, &R)>,
    render: impl Fn(&R) -> Result<Value, SimError>,
) -> Result<Value, SimError> {
    let order = order(p)?;
    let limit = limit(p)?;
    let cmp = |a: &Key, b: &Key| if order == Order::Asc { a.cmp(b) } else { b.cmp(a) };
    let total = items.len();
    let after_param = p.get("after").filter(|s| !s.is_empty());
    let before_param = p.get("before").filter(|s| !s.is_empty());
    let epoch = world.token_epoch;
    let keep_after = |x: &Key, k: &Key| cmp(x, k) == std::cmp::Ordering::Greater;
    let (page, more): (Vec<(Key, &R)>, bool) = if let Some(t) = before_param {
        let k = decode_token(t, epoch, order)?;
        // The `limit` items just before the cursor: the first ones in the reversed order.
        let prev: Vec<(Key, &R)> = items.into_iter().filter(|(x, _)| keep_after(&k, x)).collect();
        let mut page = first_n(prev, limit, |a, b| cmp(b, a));
        page.reverse();
        // The cursor's own item follows a `before` page, so there is always a next page.
        (page, true)
    } else {
        let candidates: Vec<(Key, &R)> = match after_param {
            Some(t) => {
                let k = decode_token(t, epoch, order)?;
                items.into_iter().filter(|(x, _)| keep_after(x, &k)).collect()
            }
            None => items,
        };
        let mut v = first_n(candidates, limit + 1, cmp);
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
    let rendered = page.iter().map(|(_, r)| render(r)).collect::<Result<Vec<Value>, SimError>>()?;
    let pagination = Pagination { after: next, before: prev, total_result_size: Some(total as u64) };
    let pagination =
        serde_json::to_value(pagination).map_err(|e| SimError::internal(format!("serialisation failed: {e}")))?;
    Ok(serde_json::json!({ "items": rendered, "pagination": pagination }))
}

fn served<T: serde::Serialize>(acc: &Account, r: Resource, id: &str, doc: &T) -> Result<Value, SimError> {
    render::served(acc, r, id, doc)
}

pub fn sequence_accounts(w: &World, a: usize, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    paginate(w, p, vec![(Key::new(acc.info.created_at, 0), &acc.info)], |i| {
        serde_json::to_value(i).map_err(|e| SimError::internal(e.to_string()))
    })
}

pub fn customers(w: &World, a: usize, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    let include_archived = p.get("includeArchived").is_some_and(|v| v == "true");
    let name = p.get("legalName").map(|s| s.to_lowercase());
    let items = acc
        .customers
        .iter()
        .filter(|c| include_archived || c.customer.archived_at.is_none())
        .filter(|c| name.as_ref().is_none_or(|n| c.customer.legal_name.to_lowercase().contains(n)))
        .map(|c| (Key::new(c.customer.created_at, c.seq), c))
        .collect();
    paginate(w, p, items, |c| served(acc, Resource::Customers, &c.customer.id, &c.customer))
}

pub fn products(w: &World, a: usize, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    let name = p.get("name").map(|s| s.to_lowercase());
    let items = acc
        .products
        .iter()
        .filter(|x| name.as_ref().is_none_or(|n| x.product.name.to_lowercase().contains(n)))
        .map(|x| (Key::new(x.product.created_at, x.seq), x))
        .collect();
    paginate(w, p, items, |x| served(acc, Resource::Products, &x.product.id, &x.product))
}

/// Not paginated in practice (a customer has few registrations): one page, no cursors.
pub fn tax_registrations(w: &World, a: usize, customer_id: &str) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    acc.customer(customer_id)?;
    let items: Vec<_> = acc.tax_registrations.iter().filter(|r| r.customer_id == customer_id).collect();
    let total = items.len() as u64;
    serde_json::to_value(crate::wire::ListResponse {
        items,
        pagination: Pagination { after: None, before: None, total_result_size: Some(total) },
    })
    .map_err(|e| SimError::internal(e.to_string()))
}

pub fn invoices(w: &World, a: usize, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    let status = enum_param::<InvoiceStatus>(p, "invoiceStatus")?;
    let exclude_status = enum_param::<InvoiceStatus>(p, "excludeInvoiceStatus")?;
    let pay = enum_param::<PaymentStatus>(p, "invoicePaymentStatus")?;
    let (ia, ib) = (date(p, "invoiceAfter")?, date(p, "invoiceBefore")?);
    let (sa, sb) = (date(p, "sentAfter")?, date(p, "sentBefore")?);
    let (da, db) = (date(p, "dueAfter")?, date(p, "dueBefore")?);
    // The filter accepts the documented currencies only.
    let currencies: Option<Vec<&str>> = p
        .get("invoiceCurrency")
        .map(|v| {
            v.split(',')
                .map(|c| {
                    if document::spec().enum_values("Currency").is_some_and(|e| e.iter().any(|x| x == c)) {
                        Ok(c)
                    } else {
                        Err(SimError::bad_request(format!("Invalid invoiceCurrency {c:?}")))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let customer = p.get("customerId");
    let number = p.get("invoiceNumber");
    let items = acc
        .invoices
        .iter()
        .filter(|r| status.is_none_or(|s| r.invoice.status == s))
        .filter(|r| exclude_status.is_none_or(|s| r.invoice.status != s))
        .filter(|r| pay.is_none_or(|s| r.invoice.payment_status == s))
        .filter(|r| customer.is_none_or(|c| &r.invoice.customer_id == c))
        .filter(|r| number.is_none_or(|n| r.invoice.invoice_number.as_ref() == Some(n)))
        .filter(|r| currencies.as_ref().is_none_or(|cs| cs.contains(&r.invoice.currency.as_str())))
        .filter(|r| within(r.invoice.issue_date, ia, ib))
        .filter(|r| within(r.sent_on, sa, sb))
        .filter(|r| within(r.invoice.due_date, da, db))
        .map(|r| (Key::new(r.invoice.created_at, r.seq), r))
        .collect();
    paginate(w, p, items, |r| served(acc, Resource::Invoices, &r.invoice.id, &render::invoice(acc, r)))
}

pub fn credit_notes(w: &World, a: usize, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    let status = enum_param::<CreditNoteStatus>(p, "creditNoteStatus")?;
    let (sa, sb) = (date(p, "sentAfter")?, date(p, "sentBefore")?);
    let customer = p.get("customerId");
    let number = p.get("searchCreditNoteNumber");
    let items = acc
        .credit_notes
        .iter()
        .filter(|r| status.is_none_or(|s| r.credit_note.status == s))
        .filter(|r| customer.is_none_or(|c| &r.credit_note.customer_id == c))
        .filter(|r| {
            number.is_none_or(|n| r.credit_note.credit_note_number.as_ref().is_some_and(|x| x.contains(n.as_str())))
        })
        .filter(|r| within(r.sent_on, sa, sb))
        .map(|r| (Key::new(r.created_at, r.seq), r))
        .collect();
    paginate(w, p, items, |r| served(acc, Resource::CreditNotes, &r.credit_note.id, &r.credit_note))
}

/// Line items are listed in `index` order (ASC by default, as Sequence renders them).
pub fn invoice_lines(w: &World, a: usize, id: &str, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    let rec = acc.invoice(id)?;
    let items = rec.lines.iter().map(|l| (Key { created_ms: l.index, seq: 0 }, l)).collect();
    let mut p = p.clone();
    p.entry("sortOrder".into()).or_insert_with(|| "ASC".into());
    paginate(w, &p, items, |l| served(acc, Resource::InvoiceLineItems, &l.id, l))
}

pub fn credit_note_lines(w: &World, a: usize, id: &str, p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    let rec = acc.credit_note(id)?;
    let items = rec.lines.iter().map(|l| (Key { created_ms: l.index, seq: 0 }, l)).collect();
    let mut p = p.clone();
    p.entry("sortOrder".into()).or_insert_with(|| "ASC".into());
    paginate(w, &p, items, |l| served(acc, Resource::CreditNoteLineItems, &l.id, l))
}
