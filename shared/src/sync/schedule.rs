//! When a connection syncs next: the one rule the dispatcher and the sync run both apply.
//!
//! Why one rule: the dispatcher moves every due connection to its next slot right after queueing it,
//! and a run that fails moves it to its retry time. Either write may land last (a fast run can finish
//! before the dispatcher's write), so both compute the slot from the same inputs — now, the schedule
//! interval and the connection's consecutive failures — and whichever lands last writes the same
//! answer.
//!
//! - **Healthy** (no failed run since the last successful one): every `interval`, less a small
//!   tolerance ([`tick_tolerance`]) so a tick that fires a little earlier after the previous one
//!   (invocation latency varies) still finds the connection due instead of skipping a whole interval.
//! - **Failing** (`n` consecutive failed runs): [`backoff`]`(n)` = 5 min · 2^(n−1), capped at 6 h,
//!   from the moment of the failure. The backoff *replaces* the normal slot while failing — also in its
//!   first steps, where it is shorter than the interval — so a one-off failure is retried at the next
//!   tick and a lasting one is retried less and less often, yet never dropped from the schedule. The
//!   dispatcher's tick quantises it: with the default 15-minute tick, the 5- and 10-minute steps are
//!   retried at the next tick.
//!
//! Pure: no clock, no store.

use std::time::Duration;

/// The first retry after a failed run.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5 * 60);
/// The longest wait between retries of a failing connection.
pub const BACKOFF_CAP: Duration = Duration::from_secs(6 * 60 * 60);

/// The wait after the `consecutive_failures`-th failed run in a row: 5 min, 10 min, 20 min, … 6 h.
/// Zero when there is no failure.
pub fn backoff(consecutive_failures: u32) -> Duration {
    if consecutive_failures == 0 {
        return Duration::ZERO;
    }
    // 2^(n−1) overflows nothing below the cap: 5 min · 2^7 = 640 min > 6 h already
    let factor = 1u32 << (consecutive_failures - 1).min(16);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_CAP)
}

/// How much earlier than `now + interval` a healthy connection is due again: a tenth of the interval,
/// at most a minute.
pub fn tick_tolerance(interval: Duration) -> Duration {
    (interval / 10).min(Duration::from_secs(60))
}

/// The next sync time (epoch ms) of a connection with `consecutive_failures` failed runs in a row,
/// decided at `now_ms`.
pub fn next_sync_at_ms(now_ms: i64, interval: Duration, consecutive_failures: u32) -> i64 {
    let wait = if consecutive_failures == 0 {
        interval.saturating_sub(tick_tolerance(interval))
    } else {
        backoff(consecutive_failures)
    };
    now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const QUARTER: Duration = Duration::from_secs(15 * 60);

    #[test]
    fn backoff_doubles_from_five_minutes_and_stops_at_six_hours() {
        let minutes: Vec<u64> = (0..=10).map(|n| backoff(n).as_secs() / 60).collect();
        assert_eq!(minutes, vec![0, 5, 10, 20, 40, 80, 160, 320, 360, 360, 360]);
        assert_eq!(backoff(u32::MAX), BACKOFF_CAP, "no overflow however long it fails");
    }

    #[test]
    fn healthy_connections_come_back_one_interval_later_less_the_tick_tolerance() {
        assert_eq!(next_sync_at_ms(0, QUARTER, 0), 14 * MIN);
        assert_eq!(tick_tolerance(Duration::from_secs(5 * 60)), Duration::from_secs(30));
        // a tick that fires up to a minute early relative to the last one still finds it due
        let dispatched_at = 1_000 * MIN + 30_000;
        let next_tick = 1_015 * MIN;
        assert!(next_sync_at_ms(dispatched_at, QUARTER, 0) <= next_tick);
        // but never twice in one tick
        assert!(next_sync_at_ms(dispatched_at, QUARTER, 0) > dispatched_at);
    }

    #[test]
    fn failing_connections_are_retried_by_the_backoff_instead_of_the_interval() {
        assert_eq!(next_sync_at_ms(100 * MIN, QUARTER, 1), 105 * MIN);
        assert_eq!(next_sync_at_ms(100 * MIN, QUARTER, 3), 120 * MIN);
        assert_eq!(next_sync_at_ms(100 * MIN, QUARTER, 30), 100 * MIN + 360 * MIN);
        assert_eq!(next_sync_at_ms(i64::MAX - 1, QUARTER, 2), i64::MAX, "saturates");
    }
}
