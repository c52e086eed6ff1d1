//! Time as a port, so deadlines, leases, backoff and rate limits are testable without waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Wall-clock milliseconds since the Unix epoch plus an async sleep.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

pub type SharedClock = Arc<dyn Clock>;

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock that only moves when told to; `sleep` advances it instantly and records the total slept.
#[derive(Debug)]
pub struct FakeClock {
    now: AtomicI64,
    slept_ms: AtomicI64,
}

impl FakeClock {
    pub fn at(now_ms: i64) -> Arc<Self> {
        Arc::new(FakeClock { now: AtomicI64::new(now_ms), slept_ms: AtomicI64::new(0) })
    }
    pub fn advance(&self, d: Duration) {
        self.now.fetch_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
    }
    pub fn set(&self, now_ms: i64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }
    /// Total time "slept" through this clock.
    pub fn slept(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.slept_ms.load(Ordering::SeqCst)).unwrap_or(0))
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.now.fetch_add(ms, Ordering::SeqCst);
        self.slept_ms.fetch_add(ms, Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }
}

/// `now_ms` as RFC 3339 (UTC, milliseconds), for records and audit entries.
pub fn rfc3339_millis(now_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_clock_advances_on_sleep() {
        let c = FakeClock::at(1_000);
        c.sleep(Duration::from_millis(250)).await;
        assert_eq!(c.now_ms(), 1_250);
        c.advance(Duration::from_secs(1));
        assert_eq!(c.now_ms(), 2_250);
        assert_eq!(c.slept(), Duration::from_millis(250));
    }
}
