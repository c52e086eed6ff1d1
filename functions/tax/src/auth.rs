//! Authentication of tax API calls by `X-API-KEY`, before anything else looks at the request (so a
//! "Test credentials" probe with any body tells a bad key from a good one).
//!
//! Order: header present exactly once → format and keyed check (no store read, no cache entry for garbage
//! or a forged key: see `shared::api_key::format`) → the per-container cache (≤ 60 s) → the store by SHA-256.
//! A revoked key, or a key whose record disagrees with its own test/live prefix, is refused. A key issued
//! before the pepper (legacy check) is accepted until `LEGACY_API_KEYS_UNTIL`; since anyone can make one
//! that passes its check, a legacy key the store does not know is never cached (it could evict real keys).

use http::{HeaderMap, StatusCode};
use shared::api_key::{self, ApiKeyRecord};
use shared::app::{App, Store};
use shared::web::{HttpResponse, sphere_error};

pub const HEADER: &str = "x-api-key";

fn unauthorized() -> HttpResponse {
    sphere_error(StatusCode::UNAUTHORIZED, "unauthorized_access", "Invalid API key.")
}

/// The key's record, or the response to send.
pub async fn authenticate<S: Store>(app: &App<S>, headers: &HeaderMap) -> Result<ApiKeyRecord, HttpResponse> {
    let mut values = headers.get_all(HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else { return Err(unauthorized()) };
    let Some(parsed) = value.to_str().ok().and_then(|v| api_key::parse(v.trim(), &app.key_pepper)) else {
        return Err(unauthorized());
    };
    let now = app.clock.now_ms();
    if parsed.legacy && !app.config.accepts_legacy_api_keys(now) {
        return Err(unauthorized());
    }
    let ttl = i64::try_from(app.config.key_cache_ttl.as_millis()).unwrap_or(60_000);
    // Keys are served from the cache only while fresh: past the bound a revoked key must stop working.
    let verdict = match app.caches.keys.get(&parsed.hash, now, ttl).filter(|c| c.fresh) {
        Some(c) => c.value,
        None => match api_key::lookup(&app.store, &parsed.hash).await {
            Ok(rec) => {
                let known = rec.is_some();
                let usable = rec.filter(|r| r.revoked_at.is_none() && r.mode == parsed.mode);
                if known || !parsed.legacy {
                    app.caches.keys.put(parsed.hash.clone(), usable.clone(), now);
                }
                usable
            }
            Err(e) => {
                tracing::error!(error = %e, key = %parsed.display, "cannot verify API key: store unavailable");
                return Err(sphere_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_server_error",
                    "The request could not be completed. Please retry.",
                ));
            }
        },
    };
    verdict.ok_or_else(unauthorized)
}
