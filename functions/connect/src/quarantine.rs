//! `GET /v1/sequence/connections/{id}/quarantine`: the documents the sync held out of the ledger and
//! why (kind/stream, Sequence id, reason, when), a page at a time (`limit` 1–100, default 50; `after`,
//! the `next` of the previous page). Never the document body: it is raw Sequence data, kept only to
//! re-evaluate it when it changes.

use crate::error::ConnectError;
use http::StatusCode;
use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::connection;
use shared::domain::ConnectionId;
use shared::ledger::quarantine::is_quarantine_cursor;
use shared::ledger::{Ledger, QuarantineEntry};
use shared::org::Principal;
use shared::sync::cursor::Stream;
use shared::web::{HttpResponse, json};
use std::collections::HashMap;

/// The sync stream a quarantine kind comes from.
fn stream(kind: &str) -> &str {
    Stream::from_quarantine_kind(kind).map_or(kind, |s| s.as_str())
}

fn view(e: &QuarantineEntry) -> Value {
    json!({
        "kind": e.kind,
        "stream": stream(&e.kind),
        "sequence_id": e.source_id,
        "reason": e.reason,
        "recorded_at": chrono::DateTime::from_timestamp_millis(e.recorded_at_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        "recorded_at_ms": e.recorded_at_ms,
        "retries": e.attempts,
        "last_attempt_at": chrono::DateTime::from_timestamp_millis(e.last_attempt_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    })
}

pub async fn list<S: Store>(
    app: &App<S>,
    who: &Principal,
    id: &ConnectionId,
    q: &HashMap<String, String>,
) -> Result<HttpResponse, ConnectError> {
    let (limit, after) = crate::paging::params(q, is_quarantine_cursor)?;
    // only the caller's own connections: another org's id is simply not found
    connection::get(&app.store, &who.org, id).await?.ok_or(ConnectError::NotFound)?;
    let page = Ledger::new(&app.store, who.org.clone(), id.clone())
        .quarantine_page(after.as_deref(), limit)
        .await
        .map_err(crate::ledger::ledger_err)?;
    Ok(json(
        StatusCode::OK,
        &json!({"items": page.items.iter().map(view).collect::<Vec<_>>(), "next": crate::paging::next(page.next)}),
    ))
}
