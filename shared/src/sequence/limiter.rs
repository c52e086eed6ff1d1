//! Client-side token bucket, one per Sequence key. Why: Sequence allows 1,500 requests/min per API key
//! (an older page says 100) and answers 429 beyond it; every run for a key, in every task of this
//! process, shares the same bucket (see [`limiter_for_key`]) so together they stay under the limit.
//! Waiting goes through the [`Clock`] port so tests never really sleep, and never past a deadline.

use crate::clock::SharedClock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A refilling bucket: `per_minute` tokens a minute, holding at most `burst`.
pub struct RateLimiter {
    per_minute: u32,
    burst: f64,
    clock: SharedClock,
    state: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    last_ms: i64,
}

/// Waiting for a token would pass the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WouldPassDeadline(pub Duration);

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("per_minute", &self.per_minute).field("burst", &self.burst).finish()
    }
}

impl RateLimiter {
    /// `per_minute` ≥ 1; the burst is a tenth of a minute's worth (at least 1), so a cold start cannot
    /// spend the whole minute's allowance at once.
    pub fn new(per_minute: u32, clock: SharedClock) -> Self {
        let per_minute = per_minute.max(1);
        Self::with_burst(per_minute, (per_minute / 10).max(1), clock)
    }

    pub fn with_burst(per_minute: u32, burst: u32, clock: SharedClock) -> Self {
        let now = clock.now_ms();
        let burst = f64::from(burst.max(1));
        RateLimiter {
            per_minute: per_minute.max(1),
            burst,
            clock,
            state: Mutex::new(Bucket { tokens: burst, last_ms: now }),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes a token now, or says how long until one is available.
    pub fn try_take(&self) -> Result<(), Duration> {
        let now = self.clock.now_ms();
        let mut b = match self.state.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let per_ms = f64::from(self.per_minute) / 60_000.0;
        let elapsed = (now - b.last_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * per_ms).min(self.burst);
        b.last_ms = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - b.tokens;
            Err(Duration::from_millis((missing / per_ms).ceil().max(1.0) as u64))
        }
    }

    /// Waits for a token; refuses (without sleeping) when the wait would end after `deadline_ms`.
    pub async fn acquire(&self, deadline_ms: Option<i64>) -> Result<(), WouldPassDeadline> {
        loop {
            match self.try_take() {
                Ok(()) => return Ok(()),
                Err(wait) => {
                    if let Some(d) = deadline_ms {
                        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                        if self.clock.now_ms().saturating_add(wait_ms) > d {
                            return Err(WouldPassDeadline(wait));
                        }
                    }
                    self.clock.sleep(wait).await;
                }
            }
        }
    }
}

type Registry = Mutex<HashMap<String, Arc<RateLimiter>>>;

/// The process-wide limiter for one key (`base_url` + client id). The first caller's rate and clock
/// win; later callers share that bucket.
pub fn limiter_for_key(base_url: &str, client_id: &str, per_minute: u32, clock: SharedClock) -> Arc<RateLimiter> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let key = crate::crypto::sha256_hex(format!("{base_url}\n{client_id}").as_bytes());
    let mut map = match REGISTRY.get_or_init(|| Mutex::new(HashMap::new())).lock() {
        Ok(m) => m,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.entry(key).or_insert_with(|| Arc::new(RateLimiter::new(per_minute, clock))).clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    #[tokio::test]
    async fn bucket_spends_burst_then_paces_at_the_rate() {
        let clock = FakeClock::at(0);
        let l = RateLimiter::with_burst(600, 5, clock.clone());
        for _ in 0..5 {
            l.acquire(None).await.unwrap();
        }
        assert_eq!(clock.slept(), Duration::ZERO);
        // 600/min = one per 100 ms.
        l.acquire(None).await.unwrap();
        assert_eq!(clock.slept(), Duration::from_millis(100));
        for _ in 0..10 {
            l.acquire(None).await.unwrap();
        }
        assert_eq!(clock.slept(), Duration::from_millis(1_100));
    }

    #[tokio::test]
    async fn never_waits_past_the_deadline() {
        let clock = FakeClock::at(1_000);
        let l = RateLimiter::with_burst(60, 1, clock.clone());
        l.acquire(Some(1_000)).await.unwrap();
        let err = l.acquire(Some(1_500)).await.unwrap_err();
        assert_eq!(err.0, Duration::from_secs(1));
        assert_eq!(clock.slept(), Duration::ZERO);
    }

    #[test]
    fn registry_shares_one_bucket_per_key() {
        let c: SharedClock = FakeClock::at(0);
        let a = limiter_for_key("http://x", "id-registry-test", 10, c.clone());
        let b = limiter_for_key("http://x", "id-registry-test", 99, c.clone());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &limiter_for_key("http://y", "id-registry-test", 10, c)));
    }
}
