//! What a run tells its caller: a typed [`Outcome`] (what to do next) and a [`RunSummary`]
//! (counters, serialisable, also logged as one structured line).

use serde::{Deserialize, Serialize};

/// How a run ended. Every variant leaves the ledger and cursors consistent: records are written
/// before the cursor, and no variant moves a cursor past uncommitted records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The cycle completed; nothing left until the next schedule.
    Done,
    /// Stopped before the deadline (or because throttling outlasted it) after checkpointing and
    /// releasing the lease; the caller re-enqueues the connection, after `retry_after_ms` if given.
    MoreWork { retry_after_ms: Option<u64> },
    /// Another invocation holds the connection's lease; exit cleanly, do not retry.
    Busy,
    /// Sequence answered 401. Re-read the secret once and run again; if it happens again, mark the
    /// connection `needs_attention` (the only outcome that takes a connection out of the schedule).
    Unauthorized,
    /// Sequence unavailable (5xx / timeouts after the client's retries): the failing stream's cursor
    /// is unchanged; retried with backoff.
    SourceUnavailable { message: String },
    /// A request Sequence refused (other 4xx) or an unexpected failure: this run stops; retried with
    /// backoff (one bad response must not stop a customer's sync for good).
    Failed { message: String },
    /// The lease was taken over while we ran (we were paused past its expiry); our writes after
    /// that point were refused by the fence. Exit; the new holder carries on.
    LeaseLost,
}

/// What the caller should do with an [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerAction {
    Nothing,
    /// Queue the connection again (after `retry_after_ms` when the run was throttled).
    Reenqueue,
    ReReadSecretAndRetryOnce,
    /// Count a failed run on the connection and retry it by `super::schedule` (capped backoff).
    RetryWithBackoff,
}

impl Outcome {
    pub fn action(&self) -> CallerAction {
        match self {
            Outcome::Done | Outcome::Busy | Outcome::LeaseLost => CallerAction::Nothing,
            Outcome::MoreWork { .. } => CallerAction::Reenqueue,
            Outcome::Unauthorized => CallerAction::ReReadSecretAndRetryOnce,
            Outcome::SourceUnavailable { .. } | Outcome::Failed { .. } => CallerAction::RetryWithBackoff,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::MoreWork { .. } => "more_work",
            Outcome::Busy => "busy",
            Outcome::Unauthorized => "unauthorized",
            Outcome::SourceUnavailable { .. } => "source_unavailable",
            Outcome::Failed { .. } => "failed",
            Outcome::LeaseLost => "lease_lost",
        }
    }
}

/// Counters of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub org: String,
    pub connection: String,
    pub holder: String,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    /// This invocation ran (part of) a full reconciliation cycle.
    pub full_reconciliation: bool,
    pub streams_completed: Vec<String>,
    /// Documents listed (all streams, all statuses).
    pub seen: u64,
    pub created: u64,
    pub updated: u64,
    /// Identical content (or an older source version): nothing written.
    pub unchanged: u64,
    /// Same content under a newer `updatedAt`: the source version was recorded (no new ledger version).
    pub touched: u64,
    /// DRAFT / IN_PROGRESS documents (not transactions).
    pub not_imported: u64,
    pub quarantined: u64,
    /// Quarantine entries cleared: the document now imports, or Sequence no longer has it.
    #[serde(default)]
    pub released: u64,
    /// Quarantined documents re-fetched by id at the start of the cycle.
    #[serde(default)]
    pub quarantine_retries: u64,
    /// Checkpoints written (one after every page of a listing, one at every stream's end).
    #[serde(default)]
    pub checkpoints: u64,
    /// Source requests made (including throttled attempts).
    pub requests: u64,
    pub line_item_requests: u64,
    /// 429 answers.
    pub throttled: u64,
    pub slept_ms: u64,
    /// Reconciliation: ledger entries created or updated by a full pass (drift repaired).
    pub repaired: u64,
    /// Reconciliation: ledger transactions whose document the full listing no longer contains.
    pub missing_in_source: u64,
    pub more_work: bool,
    pub outcome: String,
}

/// The result of [`super::run`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    pub outcome: Outcome,
    pub summary: RunSummary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_tell_the_caller_what_to_do_and_serialise() {
        assert_eq!(Outcome::MoreWork { retry_after_ms: None }.action(), CallerAction::Reenqueue);
        assert_eq!(Outcome::Unauthorized.action(), CallerAction::ReReadSecretAndRetryOnce);
        assert_eq!(Outcome::Busy.action(), CallerAction::Nothing);
        assert_eq!(Outcome::Failed { message: "x".into() }.action(), CallerAction::RetryWithBackoff);
        assert_eq!(Outcome::SourceUnavailable { message: "x".into() }.action(), CallerAction::RetryWithBackoff);
        let json = serde_json::to_value(Outcome::MoreWork { retry_after_ms: Some(5) }).unwrap();
        assert_eq!(json, serde_json::json!({"outcome": "more_work", "retry_after_ms": 5}));
        let s = RunSummary { seen: 3, more_work: true, ..RunSummary::default() };
        let back: RunSummary = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
