//! Authentication of tax API calls by `X-API-KEY`, before anything else looks at the request (so a
//! "Test credentials" probe with any body tells a bad key from a good one).
//!
//! Order: header present exactly once → format and keyed check (no store read, no cache entry for garbage
//! or a forged key: see `shared::api_key::format`) → the per-container cache (≤ 60 s) → the store by SHA-256.
//! A revoked key, or a key whose record disagrees with its own test/live prefix, is refused. A key issued
//! before the pepper (legacy check) is accepted until `LEGACY_API_KEYS_UNTIL`; since anyone can make one
//! that passes its check, a legacy key the store does not know is never cached (it could evict real keys).

use crate::error::ApiError;
use crate::state::State;
use http::HeaderMap;
use shared::api_key::{self, ApiKeyRecord};
use shared::store::ItemStore;

pub const HEADER: &str = "x-api-key";

/// The key's record.
pub async fn authenticate<I: ItemStore>(state: &State<I>, headers: &HeaderMap) -> Result<ApiKeyRecord, ApiError> {
    let mut values = headers.get_all(HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else { return Err(ApiError::Unauthorized) };
    let Some(parsed) = value.to_str().ok().and_then(|v| api_key::parse(v.trim(), &state.key_pepper)) else {
        return Err(ApiError::Unauthorized);
    };
    let now = state.clock.now_ms();
    if parsed.legacy && !state.config.accepts_legacy_api_keys(now) {
        return Err(ApiError::Unauthorized);
    }
    // Keys are served from the cache only while fresh: past the bound a revoked key must stop working.
    let verdict = match state.caches.keys.get(&parsed.hash, now, state.cache_ttl_ms()).filter(|c| c.fresh) {
        Some(c) => c.value,
        None => {
            let rec = api_key::lookup(&state.store, &parsed.hash).await.inspect_err(|e| {
                tracing::error!(error = %e, key = %parsed.display, "cannot verify API key: store unavailable");
            })?;
            let known = rec.is_some();
            let usable = rec.filter(|r| r.revoked_at.is_none() && r.mode == parsed.mode);
            if known || !parsed.legacy {
                state.caches.keys.put(parsed.hash.clone(), usable.clone(), now);
            }
            usable
        }
    };
    verdict.ok_or(ApiError::Unauthorized)
}
