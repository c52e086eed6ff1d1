//! Reading the ledger: `GET /v1/ledger/transactions` (filters `connection`, `from`, `to`, `region`,
//! `type`, `status`; cursor pagination `after`, `limit` ≤ 100), `GET /v1/ledger/transactions/{id}`
//! (`invoice:{id}` or `credit:{id}`, with lines and versions) and `GET /v1/ledger/summary`.

use crate::error::ConnectError;
use http::StatusCode;
use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::connection::{self, ConnectionStatus};
use shared::domain::ConnectionId;
use shared::ledger::model::{DocKind, TxnHead, TxnStatus, TxnType};
use shared::ledger::{Ledger, TxnFilter};
use shared::org::Principal;
use shared::web::{HttpResponse, json};
use std::collections::HashMap;

/// The connection a query reads: the one named, else the org's active one, else its newest.
pub(crate) async fn connection_of<S: Store>(
    app: &App<S>,
    who: &Principal,
    q: &HashMap<String, String>,
) -> Result<Option<ConnectionId>, ConnectError> {
    let all = connection::list(&app.store, &who.org).await?;
    if let Some(c) = q.get("connection") {
        let id = ConnectionId::parse(c.as_str()).map_err(|_| ConnectError::NotFound)?;
        return all.iter().any(|x| x.value.connection_id == id).then_some(Some(id)).ok_or(ConnectError::NotFound);
    }
    let active = all.iter().find(|c| c.value.status != ConnectionStatus::Disconnected);
    let newest = all.iter().max_by(|a, b| a.value.created_at.cmp(&b.value.created_at));
    Ok(active.or(newest).map(|c| c.value.connection_id.clone()))
}

pub(crate) fn date(q: &HashMap<String, String>, name: &str) -> Result<Option<chrono::NaiveDate>, ConnectError> {
    q.get(name)
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ConnectError::BadRequest(format!("{name} must be a date YYYY-MM-DD")))
        })
        .transpose()
}

fn filter(q: &HashMap<String, String>) -> Result<TxnFilter, ConnectError> {
    let txn_type = match q.get("type").map(String::as_str) {
        None => None,
        Some("sale") => Some(TxnType::Sale),
        Some("refund") => Some(TxnType::Refund),
        Some(_) => return Err(ConnectError::BadRequest("type must be sale or refund".into())),
    };
    let status = match q.get("status").map(String::as_str) {
        None => None,
        Some("active") => Some(TxnStatus::Active),
        Some("cancelled") => Some(TxnStatus::Cancelled),
        Some(_) => return Err(ConnectError::BadRequest("status must be active or cancelled".into())),
    };
    let region = q.get("region").map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty());
    if region.as_ref().is_some_and(|r| r.len() > 10 || !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')) {
        return Err(ConnectError::BadRequest("region must look like US-MN, DE or CA-ON".into()));
    }
    Ok(TxnFilter { from: date(q, "from")?, to: date(q, "to")?, region, txn_type, status })
}

pub(crate) fn view(h: &TxnHead) -> Value {
    let t = &h.txn;
    json!({
        "id": format!("{}:{}", t.kind.as_str(), t.source_id),
        "type": t.txn_type,
        "status": t.status,
        "source_status": t.source_status,
        "region": t.region,
        "event_date": t.event_date,
        "currency": t.currency,
        "document_number": t.number,
        "customer_name": t.customer.name,
        "net": t.net_total,
        "tax_collected": t.tax_total,
        "tax_calculated": t.tax_calculated_total,
        "version": h.version,
    })
}

pub async fn transactions<S: Store>(
    app: &App<S>,
    who: &Principal,
    q: &HashMap<String, String>,
) -> Result<HttpResponse, ConnectError> {
    let f = filter(q)?;
    let (limit, after) = crate::paging::params(q, |_| true)?;
    let Some(conn) = connection_of(app, who, q).await? else {
        return Ok(json(StatusCode::OK, &json!({"items": [], "next": null})));
    };
    let page = Ledger::new(&app.store, who.org.clone(), conn)
        .query_transactions(&f, after.as_deref(), limit)
        .await
        .map_err(ledger_err)?;
    Ok(json(
        StatusCode::OK,
        &json!({"items": page.items.iter().map(view).collect::<Vec<_>>(), "next": crate::paging::next(page.next)}),
    ))
}

pub async fn transaction<S: Store>(
    app: &App<S>,
    who: &Principal,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<HttpResponse, ConnectError> {
    let (kind, source_id) = match id.split_once(':') {
        Some(("invoice", s)) => (DocKind::Invoice, s),
        Some(("credit", s)) => (DocKind::Credit, s),
        _ => return Err(ConnectError::NotFound),
    };
    let Some(conn) = connection_of(app, who, q).await? else { return Err(ConnectError::NotFound) };
    let head = Ledger::new(&app.store, who.org.clone(), conn)
        .get_transaction(kind, source_id)
        .await
        .map_err(ledger_err)?
        .ok_or(ConnectError::NotFound)?;
    let mut v = view(&head);
    v["lines"] = json!(head.txn.lines);
    v["versions"] = json!(head.versions);
    v["customer"] = json!(head.txn.customer);
    v["calculation_id"] = json!(head.txn.calculation_id);
    Ok(json(StatusCode::OK, &v))
}

/// Transactions one summary request reads at most; past them the answer carries `next`.
pub const SUMMARY_PAGE_TRANSACTIONS: usize = 5_000;

/// `GET /v1/ledger/summary`: per-region totals of the next ≤ 5,000 transactions (`after`: the previous page's
/// `next`). A request's work is bounded whatever the ledger's size; the whole summary is the sum of the pages,
/// row by (region, currency), which the console adds up.
pub async fn summary<S: Store>(
    app: &App<S>,
    who: &Principal,
    q: &HashMap<String, String>,
) -> Result<HttpResponse, ConnectError> {
    let f = TxnFilter { from: date(q, "from")?, to: date(q, "to")?, ..TxnFilter::default() };
    let (_, after) = crate::paging::params(q, |_| true)?;
    let Some(conn) = connection_of(app, who, q).await? else {
        return Ok(json(StatusCode::OK, &json!({"items": [], "next": null})));
    };
    let (items, next) = Ledger::new(&app.store, who.org.clone(), conn)
        .summary_page(&f, after.as_deref(), SUMMARY_PAGE_TRANSACTIONS)
        .await
        .map_err(ledger_err)?;
    Ok(json(StatusCode::OK, &json!({ "items": items, "next": crate::paging::next(next) })))
}

pub(crate) fn ledger_err(e: shared::ledger::LedgerError) -> ConnectError {
    match e {
        shared::ledger::LedgerError::Store(s) => ConnectError::Store(s),
        other => ConnectError::Store(shared::store::StoreError::Unavailable(other.to_string())),
    }
}
