//! Exposure and filing reports: `GET /v1/exposure?as_of=YYYY-MM-DD` (every jurisdiction's threshold status; with
//! `crossing_documents=true`, the invoice that crossed each threshold) and
//! `GET /v1/reports/filing?jurisdiction=US-WA&period=2026-Q3` (JSON, or CSV with `Accept: text/csv` or
//! `format=csv`). Both read the ledger's running totals (O(months × regions) items), never every transaction.

use crate::error::ConnectError;
use crate::ledger::{connection_of, date, ledger_err};
use http::StatusCode;
use serde_json::json;
use shared::app::{App, Store};
use shared::domain::Decimal;
use shared::exposure::counters::month_of;
use shared::exposure::engine::{self, Org};
use shared::exposure::filing::{self, FilingPeriod};
use shared::exposure::fx;
use shared::ledger::{Ledger, TxnFilter, TxnHead};
use shared::org::Principal;
use shared::web::{HttpResponse, json};
use std::collections::HashMap;

/// Documents listed with a filing report at most (the rest: `GET /v1/ledger/transactions` with the same filter).
pub const FILING_DOCUMENTS: usize = 200;

/// `US-WA`, `DE`, `CA-QC`, `EU`: letters, digits and one dash.
fn jurisdiction(q: &HashMap<String, String>) -> Result<String, ConnectError> {
    let j = q.get("jurisdiction").map(|j| j.trim().to_ascii_uppercase()).unwrap_or_default();
    let ok = (2..=8).contains(&j.len())
        && j.split('-').count() <= 2
        && j.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !j.starts_with('-')
        && !j.ends_with('-');
    if ok { Ok(j) } else { Err(ConnectError::BadRequest("jurisdiction must look like US-WA, DE or CA-QC".into())) }
}

async fn ledger_of<'a, S: Store>(
    app: &'a App<S>,
    who: &Principal,
    q: &HashMap<String, String>,
) -> Result<Option<Ledger<'a, S>>, ConnectError> {
    Ok(connection_of(app, who, q).await?.map(|c| Ledger::new(&app.store, who.org.clone(), c)))
}

/// Every transaction of `day`, in the by-date index's order (the crossing invoice is among them).
async fn day_transactions<S: Store>(
    ledger: &Ledger<'_, S>,
    day: chrono::NaiveDate,
) -> Result<Vec<TxnHead>, ConnectError> {
    let f = TxnFilter { from: Some(day), to: Some(day), ..TxnFilter::default() };
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = ledger.query_transactions(&f, cursor.as_deref(), 1_000).await.map_err(ledger_err)?;
        all.extend(page.items);
        match page.next {
            Some(n) => cursor = Some(n),
            None => return Ok(all),
        }
    }
}

pub async fn exposure<S: Store>(
    app: &App<S>,
    who: &Principal,
    q: &HashMap<String, String>,
) -> Result<HttpResponse, ConnectError> {
    let today = chrono::DateTime::from_timestamp_millis(app.clock.now_ms()).unwrap_or_default().date_naive();
    let as_of = date(q, "as_of")?.unwrap_or(today);
    let approaching = match q.get("approaching_percent") {
        None => Decimal::from(engine::APPROACHING_PERCENT),
        Some(p) => p
            .parse::<Decimal>()
            .ok()
            .filter(|p| *p > Decimal::ZERO && *p <= Decimal::ONE_HUNDRED)
            .ok_or_else(|| ConnectError::BadRequest("approaching_percent must be a number in (0, 100]".into()))?,
    };
    // Naming each crossing invoice reads that day's transactions (every region's): opt-in, so the report itself
    // reads only the running totals whatever the ledger's size.
    let with_documents = match q.get("crossing_documents").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ConnectError::BadRequest("crossing_documents must be true or false".into())),
    };
    let (rules, rates) = shared::exposure::content()?;
    let settings = shared::settings::get_settings(&app.store, &who.org).await?.value;
    let registrations: Vec<_> =
        shared::settings::registrations(&app.store, &who.org).await?.into_iter().map(|r| r.registration).collect();
    let origin = settings.origin_address.as_ref();
    let origin_country = origin.map(|a| a.country.trim().to_ascii_uppercase()).filter(|c| c.len() == 2);
    let origin_region = origin.and_then(|a| {
        let state = a.state.as_deref()?.trim().to_ascii_uppercase();
        let country = origin_country.as_deref()?;
        (matches!(country, "US" | "CA") && state.len() == 2).then(|| format!("{country}-{state}"))
    });
    let org = Org { registrations: &registrations, origin_country, origin_region };
    let ledger = ledger_of(app, who, q).await?;
    let (counters, complete) = match &ledger {
        Some(l) => (
            l.counters(&engine::first_month(as_of), &month_of(as_of)).await.map_err(ledger_err)?,
            l.counters_ready().await.map_err(ledger_err)?,
        ),
        None => (Vec::new(), true),
    };
    let rows = engine::evaluate(rules, rates, &counters, &org, as_of, approaching);
    let mut items = Vec::with_capacity(rows.len());
    // Jurisdictions crossed on the same day share one read of that day.
    let mut days: HashMap<chrono::NaiveDate, Vec<TxnHead>> = HashMap::new();
    for e in &rows {
        let mut v = serde_json::to_value(e).map_err(|e| ConnectError::Encode(e.to_string()))?;
        if let (true, Some(day), Some(l)) = (with_documents, e.crossed_on, &ledger) {
            let docs = match days.entry(day) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(day_transactions(l, day).await?),
            };
            if let Some(h) = engine::crossing_document(rules, rates, e, docs) {
                v["crossing_document"] = json!({
                    "id": format!("{}:{}", h.txn.kind.as_str(), h.txn.source_id),
                    "number": h.txn.number,
                    "date": h.txn.event_date,
                });
            }
        }
        items.push(v);
    }
    Ok(json(
        StatusCode::OK,
        &json!({
            "as_of": as_of,
            "connection": ledger.as_ref().map(Ledger::connection),
            "approaching_percent": approaching,
            "complete": complete,
            "exchange_rates": {"source": fx::SOURCE, "last_date": rates.last_date()},
            "items": items,
        }),
    ))
}

pub async fn filing<S: Store>(
    app: &App<S>,
    who: &Principal,
    q: &HashMap<String, String>,
    wants_csv: bool,
) -> Result<HttpResponse, ConnectError> {
    let jurisdiction = jurisdiction(q)?;
    let period_name = q.get("period").cloned().unwrap_or_default();
    let period = FilingPeriod::parse(&period_name).map_err(|e| ConnectError::BadRequest(e.to_string()))?;
    let wants_csv = wants_csv || q.get("format").is_some_and(|f| f == "csv");
    let (counters, documents, more) = match ledger_of(app, who, q).await? {
        Some(ledger) => {
            let (first, last) = period.months();
            let counters = ledger.counters(&first, &last).await.map_err(ledger_err)?;
            let documents = if wants_csv {
                None
            } else {
                let f = TxnFilter {
                    from: Some(period.from),
                    to: Some(period.to),
                    region: (jurisdiction != "EU").then(|| jurisdiction.clone()),
                    ..TxnFilter::default()
                };
                Some(ledger.query_transactions(&f, None, FILING_DOCUMENTS).await.map_err(ledger_err)?)
            };
            let more = documents.as_ref().is_some_and(|p| p.next.is_some());
            (counters, documents.map(|p| p.items).unwrap_or_default(), more)
        }
        None => (Vec::new(), Vec::new(), false),
    };
    let report = filing::report(&jurisdiction, &period_name, period, &counters);
    if wants_csv {
        let body = filing::to_csv(&report).map_err(|e| ConnectError::Encode(e.to_string()))?;
        let name = format!("filing-{}-{}.csv", report.jurisdiction, report.period);
        return Ok(shared::web::csv(StatusCode::OK, &name, body));
    }
    let docs: Vec<_> = documents.iter().map(crate::ledger::view).collect();
    let mut v = serde_json::to_value(&report).map_err(|e| ConnectError::Encode(e.to_string()))?;
    v["documents"] = json!(docs);
    v["documents_truncated"] = json!(more);
    Ok(json(StatusCode::OK, &v))
}
