//! The simulated public API: `GET http://ADDR/{sandbox|production}/api/...`. Each request passes, in
//! order: injected latency and faults, Basic auth against that environment's accounts only (401 in
//! Sequence's error shape), `Sequence-Version` (missing → this version; unknown → 400
//! `UnrecognisedApiVersion`), the per-key rate limit (429 + `Retry-After`), then routing.

use crate::list::{self, Params};
use crate::raw::Resource;
use crate::render::{self, served};
use crate::state::SimState;
use crate::world::World;
use crate::{API_VERSION, SimError};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde_json::Value;
use shared::domain::Environment;
use std::time::Duration;

pub fn router(state: SimState) -> Router {
    Router::new().route("/{env}/api/{*rest}", get(handle).post(handle).delete(handle)).with_state(state)
}

fn json(status: u16, body: Value) -> Response {
    let mut r =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(body)).into_response();
    r.headers_mut().insert("sequence-version", HeaderValue::from_static(API_VERSION));
    r
}

/// Sequence's error shape.
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
    method: axum::http::Method,
    Path((env, rest)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(env) = env.parse::<Environment>() else {
        return error_response(&SimError::new(404, "NotFound", "unknown environment"));
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
                    && shared::crypto::ct_eq(a.credentials.client_secret.as_bytes(), secret.as_bytes())
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
        if method != axum::http::Method::GET {
            return match write_route(w, a, &method, &segs, &body) {
                Ok((status, body)) => json(status, body),
                Err(e) => error_response(&e),
            };
        }
        match route(w, a, &segs, &params) {
            Ok(body) => json(200, body),
            Err(e) => error_response(&e),
        }
    })
}

/// The write routes: notification policies (webhooks).
fn write_route(
    w: &mut World,
    a: usize,
    method: &axum::http::Method,
    segs: &[&str],
    body: &[u8],
) -> Result<(u16, Value), SimError> {
    match (method.as_str(), segs) {
        ("POST", ["notifications", "policies"]) => {
            if let Some(status) = w.webhook_faults.refuse_policies {
                return Err(SimError::new(status, "Forbidden", "This API client may not manage notification policies"));
            }
            let p: crate::webhooks::NewPolicy = serde_json::from_slice(body)
                .map_err(|e| SimError::new(400, "BadRequest", format!("invalid notification policy: {e}")))?;
            if p.channel != "WEBHOOK" || p.recipients.is_empty() {
                return Err(SimError::new(400, "BadRequest", "channel must be WEBHOOK with at least one recipient"));
            }
            let policy = crate::webhooks::Policy {
                id: w.rng.uuid(),
                name: p.name.unwrap_or_default(),
                channel: p.channel,
                recipients: p.recipients,
                notification_types: p.notification_types,
                webhook_secret: p.webhook_secret.unwrap_or_else(|| format!("whsec_{}", w.rng.uuid().replace('-', ""))),
            };
            w.accounts[a].policies.push(policy.clone());
            Ok((201, serde_json::to_value(&policy).map_err(|e| SimError::internal(e.to_string()))?))
        }
        ("DELETE", ["notifications", "policies", id]) => {
            let before = w.accounts[a].policies.len();
            w.accounts[a].policies.retain(|p| p.id != *id);
            if w.accounts[a].policies.len() == before {
                return Err(SimError::not_found("notification policy", id));
            }
            Ok((200, serde_json::json!({ "id": id, "deleted": true })))
        }
        _ => Err(SimError::new(404, "NotFound", format!("No route for {method} /{}", segs.join("/")))),
    }
}

fn route(w: &World, a: usize, segs: &[&str], p: &Params) -> Result<Value, SimError> {
    let acc = &w.accounts[a];
    match segs {
        ["sequence-accounts"] => list::sequence_accounts(w, a, p),
        ["sequence-accounts", id] if *id == acc.info.id => {
            serde_json::to_value(&acc.info).map_err(|e| SimError::internal(e.to_string()))
        }
        ["sequence-accounts", id] => Err(SimError::not_found("sequence account", id)),
        ["customers"] => list::customers(w, a, p),
        ["customers", id] => served(acc, Resource::Customers, id, &acc.customer(id)?.response()),
        ["tax-registrations", "for-customer", id] => list::tax_registrations(w, a, id),
        ["products"] => list::products(w, a, p),
        ["products", id] => {
            let x = acc.products.get(id).ok_or_else(|| SimError::not_found("product", id))?;
            served(acc, Resource::Products, id, &x.product)
        }
        ["invoices"] => list::invoices(w, a, p),
        ["invoices", id] => served(acc, Resource::Invoices, id, &render::invoice_response(acc, acc.invoice(id)?)),
        ["invoices", id, "line-items"] => list::invoice_lines(w, a, id, p),
        ["credit-notes"] => list::credit_notes(w, a, p),
        ["credit-notes", id] => served(acc, Resource::CreditNotes, id, &acc.credit_note(id)?.credit_note),
        ["credit-notes", id, "line-items"] => list::credit_note_lines(w, a, id, p),
        ["notifications", "policies"] => Ok(serde_json::json!({ "items": acc.policies })),
        _ => Err(SimError::new(404, "NotFound", format!("No route for /{}", segs.join("/")))),
    }
}
