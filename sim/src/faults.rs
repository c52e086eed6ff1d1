//! What can go wrong on purpose, and what was counted: the fault switches of the public API (429 with
//! `Retry-After`, 5xx or other error bursts, latency, repeated page tokens), the per-key rate limit,
//! and the counters tests assert on. Why apart from the documents: faults apply to every route alike
//! and never change data.

use crate::world::World;
use serde::{Deserialize, Serialize};

/// Fault switches for the public API (not the control API). Counters count down per request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default)]
pub struct Faults {
    /// The next N API requests get `429`.
    pub throttle_next: u32,
    /// `Retry-After` seconds sent with injected 429s (none when absent).
    pub retry_after_secs: Option<u64>,
    /// The next N API requests get `fail_status`.
    pub fail_next: u32,
    /// Status for `fail_next` (default 503; any 400–599, e.g. 403 to test non-retried client errors).
    pub fail_status: Option<u16>,
    /// Added (real) latency per API request, in milliseconds.
    pub latency_ms: u64,
    /// List responses echo the request's `after` as the next cursor (a server bug the client must catch).
    pub repeat_page_tokens: bool,
}

/// Counters for assertions and the control API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    pub api_requests: u64,
    pub served_429: u64,
    pub served_5xx: u64,
    pub served_401: u64,
    pub tax_calls: u64,
    pub tax_call_failures: u64,
}

impl World {
    /// Per-key token bucket; `Err(retry_after_secs)` when exhausted.
    pub fn take_rate_token(&mut self, client_id: &str) -> Result<(), u64> {
        let Some(per_min) = self.rate_limit_per_minute else { return Ok(()) };
        let now = self.clock.now_ms();
        let cap = f64::from(per_min.max(1));
        let per_ms = cap / 60_000.0;
        let b = self.buckets.entry(client_id.to_owned()).or_insert((cap, now));
        b.0 = (b.0 + (now - b.1).max(0) as f64 * per_ms).min(cap);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.0) / per_ms) / 1000.0).ceil().max(1.0) as u64)
        }
    }
}
