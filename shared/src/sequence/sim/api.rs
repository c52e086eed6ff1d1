//! The simulated public API: `GET http://ADDR/{sandbox|production}/api/...`. Each request passes, in
//! order: injected latency and faults, Basic auth against that environment's accounts only (401 in
//! Sequence's error shape), `Sequence-Version` (missing → latest; unknown → 400
//! `UnrecognisedApiVersion`), the per-key rate limit (429 + `Retry-After`), then routing.

use super::SimState;
use super::list::{self, Params};
use super::state::SimError;
use crate::domain::Environment;
use crate::sequence::client::API_VERSION;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use std::time::Duration;

pub fn router(state: SimState) -> Router {
    Router::new().route("/{env}/api/{*rest}", get(handle)).with_state(state)
}

fn json(status: u16, body: serde_json::Value) -> Response {
    let mut r =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(body)).into_response();
    r.headers_mut().insert("sequence-version", HeaderValue::from_static(API_VERSION));
    r
}

pub(crate) fn error_response(e: &SimError) -> Response {
    json(e.status, serde_json::json!({ "error": { "type": e.error_type, "message": e.message } }))
}

fn with_retry_after(mut r: Response, secs: Option<u64>) -> Response {
    if let Some(s) = secs
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// `(client_id, secret)` from `Authorization: Basic …`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn handle(
    State(sim): State<SimState>,
    Path((env, rest)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let env = match env.parse::<Environment>() {
        Ok(e) => e,
        Err(_) => return error_response(&SimError::new(404, "NotFound", "unknown environment")),
    };
    let latency = sim.with(|w| w.faults.latency_ms);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let creds = basic(&headers);
    let version = headers.get("sequence-version").map(|v| v.to_str().unwrap_or("?").to_owned());
    sim.with(|w| {
        w.stats.api_requests += 1;
        if w.faults.fail_next > 0 {
            w.faults.fail_next -= 1;
            let status = w.faults.fail_status.filter(|s| (400..=599).contains(s)).unwrap_or(503);
            if status >= 500 {
                w.stats.served_5xx += 1;
            }
            let kind = match status {
                400 => "BadRequest",
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "NotFound",
                429 => "TooManyRequests",
                500 => "InternalServerError",
                _ => "ServiceUnavailable",
            };
            return error_response(&SimError::new(status, kind, "Injected failure"));
        }
        if w.faults.throttle_next > 0 {
            w.faults.throttle_next -= 1;
            w.stats.served_429 += 1;
            let r = error_response(&SimError::new(429, "TooManyRequests", "Rate limit exceeded"));
            return with_retry_after(r, w.faults.retry_after_secs);
        }
        let account = creds.as_ref().and_then(|(id, secret)| {
            w.accounts.iter().position(|a| {
                a.environment == env
                    && a.credentials.client_id == *id
                    && crate::crypto::ct_eq(a.credentials.client_secret.as_bytes(), secret.as_bytes())
            })
        });
        let Some(a) = account else {
            w.stats.served_401 += 1;
            return error_response(&SimError::new(401, "Unauthorized", "Invalid or missing API credentials"));
        };
        if let Some(v) = &version
            && v != API_VERSION
        {
            return error_response(&SimError::new(
                400,
                "UnrecognisedApiVersion",
                format!("No matching API version found. Supported versions: {API_VERSION}"),
            ));
        }
        let client_id = w.accounts[a].credentials.client_id.clone();
        if let Err(secs) = w.take_rate_token(&client_id) {
            w.stats.served_429 += 1;
            let r = error_response(&SimError::new(429, "TooManyRequests", "Rate limit exceeded"));
            return with_retry_after(r, Some(secs));
        }
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match route(w, a, &segs, &params) {
            Ok(body) => json(200, body),
            Err(e) => error_response(&e),
        }
    })
}

fn route(w: &super::World, a: usize, segs: &[&str], p: &Params) -> Result<serde_json::Value, SimError> {
    let acc = &w.accounts[a];
    let to_json = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|_| SimError::new(500, "InternalServerError", "serialisation failed"))
    };
    match segs {
        ["sequence-accounts"] => list::sequence_accounts(w, a, p),
        ["sequence-accounts", id] if *id == acc.info.id => to_json(serde_json::to_value(&acc.info)),
        ["sequence-accounts", id] => Err(SimError::not_found("sequence account", id)),
        ["customers"] => list::customers(w, a, p),
        ["customers", id] => acc
            .customers
            .iter()
            .find(|c| c.item.id == *id)
            .map(|c| to_json(serde_json::to_value(&c.item)))
            .unwrap_or_else(|| Err(SimError::not_found("customer", id))),
        ["tax-registrations", "for-customer", id] => list::tax_registrations(w, a, id),
        ["products"] => list::products(w, a, p),
        ["products", id] => acc
            .products
            .iter()
            .find(|x| x.item.id == *id)
            .map(|x| to_json(serde_json::to_value(&x.item)))
            .unwrap_or_else(|| Err(SimError::not_found("product", id))),
        ["invoices"] => list::invoices(w, a, p),
        ["invoices", id] => acc
            .invoices
            .iter()
            .find(|r| r.invoice.id == *id)
            .map(|r| {
                let mut inv = r.invoice.clone();
                inv.balance = Some(if inv.payment_status == Some(crate::sequence::PaymentStatus::Paid) {
                    crate::domain::Decimal::ZERO
                } else {
                    inv.gross_total
                });
                to_json(serde_json::to_value(&inv))
            })
            .unwrap_or_else(|| Err(SimError::not_found("invoice", id))),
        ["invoices", id, "line-items"] => list::invoice_lines(w, a, id, p),
        ["credit-notes"] => list::credit_notes(w, a, p),
        ["credit-notes", id] => acc
            .credit_notes
            .iter()
            .find(|r| r.credit_note.id == *id)
            .map(|r| to_json(serde_json::to_value(&r.credit_note)))
            .unwrap_or_else(|| Err(SimError::not_found("credit note", id))),
        ["credit-notes", id, "line-items"] => list::credit_note_lines(w, a, id, p),
        _ => Err(SimError::new(404, "NotFound", format!("No route for /{}", segs.join("/")))),
    }
}
