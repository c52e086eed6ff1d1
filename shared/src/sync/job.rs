//! What the caller passes in ([`RunRequest`], [`SyncSettings`] from [`Config`]) and the one error a
//! run can return (ledger-store failures; everything else is an [`super::Outcome`]).

use crate::config::Config;
use crate::domain::{ConnectionId, OrgId};
use crate::store::StoreError;
use std::time::Duration;

/// Tunables of a run (from [`Config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// Days re-read before the watermark every cycle.
    pub lookback_days: u32,
    /// Full reconciliation cadence.
    pub reconcile_every: Duration,
    /// Stop (checkpoint, release, `MoreWork`) when less than this remains before the deadline.
    pub safety_margin: Duration,
    /// Lease duration; renewed before a source call once half of it has passed.
    pub lease: Duration,
    /// Most throttled waits per call before giving up with `MoreWork`.
    pub max_throttle_waits: u32,
    /// Width of one date slice of a dated listing (bounds the re-paging after a stop).
    pub slice_days: u32,
    /// Full passes slice history from this date (one catch-all slice before it).
    pub history_start: chrono::NaiveDate,
    /// How long a saved page token may resume a pass (`cursor::ResumeToken`); older ones restart it
    /// from the keyset. Invocations of one run chain follow each other within minutes (a throttled
    /// one waits at most 15 min in the queue), so an hour only excludes tokens of abandoned runs.
    pub resume_token_ttl: Duration,
    /// Quarantined documents re-fetched by id at the end of each cycle, oldest attempt first.
    pub quarantine_retries_per_cycle: usize,
    /// A quarantined document is re-evaluated (lines read again, or re-fetched by id) when its last
    /// attempt is older than this; until then an unchanged one is skipped without a request.
    pub quarantine_retry_every: Duration,
}

impl SyncSettings {
    pub fn from_config(c: &Config) -> Self {
        SyncSettings {
            lookback_days: c.sync_lookback_days,
            reconcile_every: Duration::from_secs(u64::from(c.sync_reconcile_days) * 86_400),
            safety_margin: c.sync_safety_margin,
            lease: c.sync_lease,
            max_throttle_waits: 5,
            slice_days: 31,
            history_start: chrono::NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or(chrono::NaiveDate::MIN),
            resume_token_ttl: Duration::from_secs(3_600),
            quarantine_retries_per_cycle: 50,
            quarantine_retry_every: Duration::from_secs(3_600),
        }
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self::from_config(&Config::defaults())
    }
}

/// One invocation's request.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub org: OrgId,
    pub connection: ConnectionId,
    /// Unique per invocation (e.g. the Lambda request id): two invocations with the same holder
    /// would share the lease.
    pub holder: String,
    /// Absolute deadline, epoch ms (Lambda: now + remaining time).
    pub deadline_ms: i64,
    /// Start a full reconciliation cycle now (when no cycle is in progress).
    pub force_full: bool,
    pub settings: SyncSettings,
}

/// Infrastructure failures (the ledger store). Progress up to the last checkpoint is kept; the
/// lease is released if the store still answers, else it expires.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("concurrent modification: {0}")]
    Conflict(String),
}
