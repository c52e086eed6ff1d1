//! One queue message = one run for one connection, and what its outcome means for the connection.
//!
//! Why this shape: one bad response must not stop a customer's sync for good. So only a refusal of
//! the credentials (401 after re-reading the secret once, or a missing secret) takes a connection out
//! of the schedule (`needs_attention`: retrying cannot help, a human must rotate them). Every other
//! failure — Sequence failing or refusing a request, the ledger store failing, the secret store not
//! answering — is counted on the connection (`sync_failure`) and retried by the backoff of
//! `shared::sync::schedule`; the next successful run clears it. A throttled run is queued again after
//! Sequence's `Retry-After`.

use crate::State;
use crate::SyncFnError;
use crate::metrics::{self, RunVerdict};
use serde_json::json;
use shared::app::Store;
use shared::config::Config;
use shared::connection::{self, ConnectionRecord, ConnectionStatus, StoredCredentials};
use shared::domain::Environment;
use shared::queue::SyncMessage;
use shared::sequence::{SequenceClient, SequenceError};
use shared::store::record::Versioned;
use shared::sync::adapter::SequenceAdapter;
use shared::sync::{CallerAction, Outcome, RunReport, RunSummary, SyncSettings};
use std::time::Duration;

/// The longest `Retry-After` the Sequence client waits out itself during a sync. Longer ones come back
/// to the sync algorithm, which owns the throttling policy of a run (its safety margin, its limit on
/// waits, the `slept_ms` it reports): it waits only if the wait ends before its deadline and otherwise
/// stops with `MoreWork { retry_after }`, which the caller turns into a delayed message. (The client
/// itself also keeps a `Retry-After` that would pass its deadline, as `Throttled { retry_after }`.)
pub const CLIENT_MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The Sequence client's deadline for a run that must stop by `deadline_ms`: the checkpoint margin
/// earlier, so no request (nor the client's own retry waits) runs into the time the checkpoint write
/// after it needs. Never earlier than the algorithm's own stop (`deadline − safety margin`), so the
/// client never refuses a call the algorithm still has time for (see [`Config::sync_checkpoint_margin`]).
pub fn client_deadline_ms(deadline_ms: i64, config: &Config) -> i64 {
    let margin = config.sync_checkpoint_margin.min(config.sync_safety_margin);
    deadline_ms.saturating_sub(i64::try_from(margin.as_millis()).unwrap_or(i64::MAX))
}

/// What a run means for the connection record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// The cycle completed: the failure state is cleared.
    Succeeded,
    /// Counted, and retried with backoff; the connection stays scheduled.
    Failed(String),
    /// The credentials are refused or gone: out of the schedule until a human rotates them.
    NeedsAttention(String),
    /// Checkpointed (out of time, throttled) or taken over: progress, not a verdict on health.
    Progress,
    /// Another run holds the lease: nothing to record.
    Untouched,
}

impl Verdict {
    fn of(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Done => Verdict::Succeeded,
            Outcome::MoreWork { .. } | Outcome::LeaseLost => Verdict::Progress,
            Outcome::Busy => Verdict::Untouched,
            Outcome::Unauthorized => Verdict::NeedsAttention(
                "Sequence rejected the stored Client ID or Secret; update them in the console".into(),
            ),
            Outcome::SourceUnavailable { message } => Verdict::Failed(format!("Sequence is unavailable: {message}")),
            Outcome::Failed { message } => Verdict::Failed(message.clone()),
        }
    }

    fn failed(&self) -> bool {
        matches!(self, Verdict::Failed(_) | Verdict::NeedsAttention(_))
    }
}

/// A report for a run that never reached the algorithm (or whose store failed under it).
fn synthetic(job: &SyncMessage, holder: &str, started_ms: i64, now_ms: i64, outcome: Outcome) -> RunReport {
    let summary = RunSummary {
        org: job.org_id.to_string(),
        connection: job.connection_id.to_string(),
        holder: holder.to_owned(),
        started_at_ms: started_ms,
        duration_ms: now_ms.saturating_sub(started_ms),
        outcome: outcome.name().to_owned(),
        ..RunSummary::default()
    };
    RunReport { outcome, summary }
}

enum Secret {
    Found(StoredCredentials),
    /// Absent or unreadable: only connecting again can help.
    Missing,
}

async fn credentials<S: Store>(app: &State<S>, c: &ConnectionRecord) -> Result<Secret, shared::store::SecretError> {
    Ok(match app.store.get_secret(&c.secret_name).await? {
        None => Secret::Missing,
        Some(v) => StoredCredentials::from_secret(&v).map_or(Secret::Missing, Secret::Found),
    })
}

fn sequence_client<S: Store>(
    app: &State<S>,
    env: Environment,
    creds: &StoredCredentials,
    deadline_ms: i64,
) -> Result<SequenceClient, SequenceError> {
    let mut opts = connection::client_options(&app.config, &app.clock, env);
    opts.max_retry_after = CLIENT_MAX_RETRY_AFTER;
    SequenceClient::with_options(&creds.credentials(), opts)
        .map(|c| c.with_deadline(Some(client_deadline_ms(deadline_ms, &app.config))))
}

/// One pass of the algorithm with `creds`; failures of the ledger store become a `Failed` report.
async fn run_with<S: Store>(
    app: &State<S>,
    job: &SyncMessage,
    conn: &ConnectionRecord,
    creds: &StoredCredentials,
    holder: &str,
    deadline_ms: i64,
) -> RunReport {
    let started = app.clock.now_ms();
    let client = match sequence_client(app, conn.environment, creds, deadline_ms) {
        Ok(c) => c,
        Err(e) => {
            let outcome = Outcome::Failed { message: format!("could not set up the Sequence client: {e}") };
            return synthetic(job, holder, started, app.clock.now_ms(), outcome);
        }
    };
    let sync_job = shared::sync::RunRequest {
        org: job.org_id.clone(),
        connection: job.connection_id.clone(),
        holder: holder.to_owned(),
        deadline_ms,
        force_full: false,
        settings: SyncSettings::from_config(&app.config),
    };
    let source = SequenceAdapter { client };
    let ran = if job.targets.is_empty() {
        shared::sync::run(&app.store, &source, app.clock.as_ref(), &sync_job).await
    } else {
        shared::sync::run_targets(&app.store, &source, app.clock.as_ref(), &sync_job, &job.targets).await
    };
    match ran {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(org = %job.org_id, connection = %job.connection_id, error = %e, "sync run failed in the ledger store");
            let outcome = Outcome::Failed { message: format!("the ledger store failed: {e}") };
            synthetic(job, holder, started, app.clock.now_ms(), outcome)
        }
    }
}

/// One run for one connection, until done or `deadline_ms` (minus the safety margin), recorded on the
/// connection. `Err` only when even that record cannot be written (then SQS redelivers the message).
pub async fn run_job<S: Store>(
    app: &State<S>,
    job: &SyncMessage,
    holder: &str,
    deadline_ms: i64,
) -> Result<Option<RunReport>, SyncFnError> {
    let Some(conn) = connection::get(&app.store, &job.org_id, &job.connection_id).await? else {
        tracing::warn!(org = %job.org_id, connection = %job.connection_id, "sync job for an unknown connection: dropped");
        return Ok(None);
    };
    if conn.value.status == ConnectionStatus::Disconnected {
        return Ok(None);
    }
    let started = app.clock.now_ms();
    if !job.targets.is_empty() {
        // Later webhooks for these documents queue a new job from now on: this one may already have read them.
        release_targets(app, job).await;
    }
    let (report, verdict) = match credentials(app, &conn.value).await {
        Ok(Secret::Found(creds)) => {
            let mut report = run_with(app, job, &conn.value, &creds, holder, deadline_ms).await;
            if report.outcome.action() == CallerAction::ReReadSecretAndRetryOnce {
                // The secret may have been rotated since this container read it: read it again, retry once.
                if let Ok(Secret::Found(fresh)) = credentials(app, &conn.value).await
                    && (fresh.client_id != creds.client_id || fresh.client_secret != creds.client_secret)
                {
                    report = run_with(app, job, &conn.value, &fresh, holder, deadline_ms).await;
                }
            }
            let verdict = Verdict::of(&report.outcome);
            (report, verdict)
        }
        Ok(Secret::Missing) => (
            synthetic(job, holder, started, app.clock.now_ms(), Outcome::Unauthorized),
            Verdict::NeedsAttention("the stored Sequence credentials are missing; connect again".into()),
        ),
        Err(e) => {
            let message = format!("could not read the stored Sequence credentials: {e}");
            let report = synthetic(job, holder, started, app.clock.now_ms(), Outcome::Failed { message });
            let verdict = Verdict::of(&report.outcome);
            (report, verdict)
        }
    };
    if !job.targets.is_empty() {
        // A targeted job leaves the connection's record to the scheduled runs (their summary, their backoff): it
        // is logged and counted, and tried again only while the lease is busy or it ran out of time.
        if matches!(report.outcome, Outcome::Busy | Outcome::MoreWork { .. }) {
            requeue_targets(app, job).await?;
        }
        tracing::info!(
            org = %job.org_id,
            connection = %job.connection_id,
            outcome = report.outcome.name(),
            targets = job.targets.len(),
            created = report.summary.created,
            updated = report.summary.updated,
            "targeted sync (webhook) finished"
        );
        metrics::emit(&report, RunVerdict { failed: verdict.failed(), consecutive_failures: 0 });
        return Ok(Some(report));
    }
    let requeued = match report.outcome {
        Outcome::MoreWork { retry_after_ms } => Some(requeue(app, job, retry_after_ms).await?),
        _ => None,
    };
    let recorded = record(app, &conn, &report, &verdict, started, requeued).await?;
    let consecutive_failures = recorded.as_ref().map_or(0, ConnectionRecord::consecutive_failures);
    if verdict.failed() {
        tracing::warn!(
            org = %job.org_id,
            connection = %job.connection_id,
            outcome = report.outcome.name(),
            consecutive_failures,
            retry_at_ms = recorded.as_ref().and_then(|c| c.next_sync_at_ms),
            "sync run failed"
        );
    }
    metrics::emit(&report, RunVerdict { failed: verdict.failed(), consecutive_failures });
    Ok(Some(report))
}

/// How long a targeted job waits when the connection's lease is busy (a scheduled run is importing).
pub const TARGETS_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Drops the "already queued" markers of a targeted job's documents (best effort: they expire anyway).
async fn release_targets<S: Store>(app: &State<S>, job: &SyncMessage) {
    let ops: Vec<shared::store::WriteOp> = job
        .targets
        .iter()
        .map(|t| shared::store::WriteOp::Delete {
            key: shared::layout::pending_target_key(&job.org_id, &job.connection_id, t.stream.as_str(), &t.id),
            expect: shared::store::Expect::Any,
        })
        .collect();
    for batch in ops.chunks(25) {
        if let Err(e) = app.store.write(batch.to_vec()).await {
            tracing::warn!(connection = %job.connection_id, error = %e, "could not release pending webhook targets");
        }
    }
}

/// Queues a targeted job again after [`TARGETS_RETRY_DELAY`] (the lease was busy, or time ran out).
async fn requeue_targets<S: Store>(app: &State<S>, job: &SyncMessage) -> Result<(), SyncFnError> {
    let now = app.clock.now_ms();
    let again = SyncMessage { dedup_id: format!("{}#{}#targets#{now}", job.org_id, job.connection_id), ..job.clone() };
    app.queue.enqueue_after(again, TARGETS_RETRY_DELAY).await?;
    Ok(())
}

/// Queues the continuation of a checkpointed run: after Sequence's `Retry-After` when it was
/// throttled (cut to the queue's 15-minute maximum, which is logged), at once when it only ran out of
/// time. Returns the delay used.
async fn requeue<S: Store>(
    app: &State<S>,
    job: &SyncMessage,
    retry_after_ms: Option<u64>,
) -> Result<Duration, SyncFnError> {
    let wanted = Duration::from_millis(retry_after_ms.unwrap_or(0));
    let delay = shared::queue::clamp_delay(wanted);
    if delay < wanted {
        tracing::warn!(
            connection = %job.connection_id,
            retry_after_s = wanted.as_secs(),
            delay_s = delay.as_secs(),
            "Sequence asked to wait longer than the queue can delay a message: continuing after the maximum"
        );
    }
    let now = app.clock.now_ms();
    app.queue
        .enqueue_after(
            SyncMessage {
                org_id: job.org_id.clone(),
                connection_id: job.connection_id.clone(),
                reason: "continue".into(),
                dedup_id: format!("{}#{}#continue#{now}", job.org_id, job.connection_id),
                targets: Vec::new(),
            },
            delay,
        )
        .await?;
    Ok(delay)
}

/// Writes the run onto the connection: status, failure state and schedule per the verdict, and the
/// run's summary. Returns the record as written (`None` if it vanished or kept changing under us).
async fn record<S: Store>(
    app: &State<S>,
    conn: &Versioned<ConnectionRecord>,
    report: &RunReport,
    verdict: &Verdict,
    started_ms: i64,
    requeued: Option<Duration>,
) -> Result<Option<ConnectionRecord>, SyncFnError> {
    if *verdict == Verdict::Untouched {
        return Ok(Some(conn.value.clone()));
    }
    let interval = app.config.sync_interval();
    let now = app.clock.now_ms();
    let mut last_sync =
        json!({"outcome": report.outcome, "action": report.outcome.action(), "summary": report.summary});
    if let Some(d) = requeued {
        last_sync["requeued_after_ms"] = json!(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    }
    let updated_at = app.now_rfc3339();
    update(app, conn, |c| {
        if c.status != ConnectionStatus::Disconnected {
            match verdict {
                Verdict::Succeeded => {
                    c.status = ConnectionStatus::Active;
                    c.status_reason = None;
                    c.record_success(started_ms, interval);
                }
                Verdict::Failed(reason) => c.record_failure(now, interval, reason),
                Verdict::NeedsAttention(reason) => {
                    c.status = ConnectionStatus::NeedsAttention;
                    c.status_reason = Some(reason.clone());
                }
                Verdict::Progress => {
                    c.status = ConnectionStatus::Active;
                    c.status_reason = None;
                }
                Verdict::Untouched => {}
            }
        }
        c.last_sync = Some(last_sync.clone());
        c.updated_at = updated_at.clone();
    })
    .await
}

/// Applies `change` to the connection and writes it, re-reading and re-applying on a concurrent
/// change (the dispatcher moving its slot, another run finishing).
async fn update<S: Store>(
    app: &State<S>,
    conn: &Versioned<ConnectionRecord>,
    change: impl Fn(&mut ConnectionRecord),
) -> Result<Option<ConnectionRecord>, SyncFnError> {
    let mut current = conn.clone();
    for _ in 0..3 {
        let mut next = current.value.clone();
        change(&mut next);
        match app.store.write(vec![next.put(current.if_unchanged())?]).await {
            Ok(()) => return Ok(Some(next)),
            Err(e) if e.is_condition_failed() => {
                match connection::get(&app.store, &conn.value.org_id, &conn.value.connection_id).await? {
                    Some(c) => current = c,
                    None => return Ok(None),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::warn!(connection = %conn.value.connection_id, "the connection kept changing: this run's result was not recorded");
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_stops_a_checkpoint_margin_before_the_deadline_never_before_the_algorithm() {
        let mut c = Config::defaults();
        assert_eq!(client_deadline_ms(100_000, &c), 95_000);
        // a checkpoint margin past the safety margin (a configuration that bypassed the check) is cut
        // to it: the client never refuses a call the algorithm still has time for
        c.sync_checkpoint_margin = Duration::from_secs(30);
        assert_eq!(client_deadline_ms(100_000, &c), 80_000);
        assert_eq!(client_deadline_ms(i64::MIN, &c), i64::MIN);
    }

    #[test]
    fn only_refused_credentials_need_a_human() {
        let failed = |o: Outcome| Verdict::of(&o);
        assert!(matches!(failed(Outcome::Failed { message: "403".into() }), Verdict::Failed(_)));
        assert!(matches!(failed(Outcome::SourceUnavailable { message: "HTTP 500".into() }), Verdict::Failed(_)));
        assert!(matches!(failed(Outcome::Unauthorized), Verdict::NeedsAttention(_)));
        assert_eq!(failed(Outcome::MoreWork { retry_after_ms: Some(1) }), Verdict::Progress);
        assert_eq!(failed(Outcome::Busy), Verdict::Untouched);
        assert_eq!(failed(Outcome::Done), Verdict::Succeeded);
        assert!(!Verdict::Progress.failed() && Verdict::Failed(String::new()).failed());
    }
}
