//! The `sync` function: the scheduled dispatcher (EventBridge → one queue message per due connection)
//! and the per-connection incremental import of Sequence data into the ledger (SQS → one run).
//!
//! The algorithm is `shared::sync` (pure over ports); this crate wires it to the real Sequence client
//! (`shared::sync::adapter`), the connection record (secret, status, last run summary) and the queue.

use serde::Serialize;
use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::connection::{self, ConnectionRecord, ConnectionStatus, StoredCredentials};
use shared::queue::SyncJob;
use shared::store::StoreError;
use shared::store::record::Versioned;
use shared::sync::adapter::SequenceAdapter;
use shared::sync::{CallerAction, Outcome, RunReport, SyncSettings};

/// AWS actions this function's code calls (ledger and cursor writes are fenced transactions; the
/// Sequence secret is read, never written; runs out of time re-enqueue themselves).
/// `tests/tests/iam_policy.rs` holds template.yaml to exactly this list.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "secretsmanager:GetSecretValue",
    "sqs:SendMessage",
];

/// Most connections one dispatch enqueues (the rest are still due at the next tick).
const DISPATCH_BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum SyncFnError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("secret store: {0}")]
    Secret(#[from] shared::store::SecretError),
    #[error("sync: {0}")]
    Sync(#[from] shared::sync::SyncError),
    #[error("queue: {0}")]
    Queue(#[from] shared::queue::QueueError),
    #[error("bad event: {0}")]
    BadEvent(String),
}

#[derive(Debug, Serialize)]
pub struct DispatchReport {
    pub due: usize,
    pub enqueued: usize,
}

/// The scheduled tick: one queue message per due connection, then each moved to its next slot.
pub async fn dispatch<S: Store>(app: &App<S>) -> Result<DispatchReport, SyncFnError> {
    let now = app.clock.now_ms();
    let interval = i64::from(app.config.sync_interval_minutes) * 60_000;
    let due = connection::due(&app.store, now, DISPATCH_BATCH).await?;
    let mut enqueued = 0;
    for c in &due {
        let slot = now / interval.max(1);
        app.queue
            .enqueue(SyncJob {
                org_id: c.org_id.clone(),
                connection_id: c.connection_id.clone(),
                reason: "schedule".into(),
                dedup_id: format!("{}#{}#{slot}", c.org_id, c.connection_id),
            })
            .await?;
        enqueued += 1;
        // Move it to its next slot, from a consistent read (the index is eventually consistent, so its
        // copy's version may lag); a concurrent change (a run finishing) wins and is fine.
        if let Some(cur) = connection::get(&app.store, &c.org_id, &c.connection_id).await? {
            let mut next = cur.value.clone();
            next.next_sync_at_ms = Some(now + interval);
            match app.store.write(vec![next.put(cur.expect())?]).await {
                Err(e) if !e.is_condition_failed() => return Err(e.into()),
                _ => {}
            }
        }
    }
    let report = DispatchReport { due: due.len(), enqueued };
    tracing::info!(due = report.due, enqueued = report.enqueued, "sync dispatch");
    Ok(report)
}

async fn credentials<S: Store>(app: &App<S>, c: &ConnectionRecord) -> Result<Option<StoredCredentials>, SyncFnError> {
    match app.store.get_secret(&c.secret_name).await? {
        None => Ok(None),
        Some(v) => Ok(StoredCredentials::from_secret(&v).ok()),
    }
}

/// One run for one connection, until done or `deadline_ms` (minus the safety margin).
pub async fn run_job<S: Store>(
    app: &App<S>,
    job: &SyncJob,
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
    let run = |creds: StoredCredentials| {
        let opts = connection::client_options(&app.config, &app.clock, conn.value.environment);
        let sync_job = shared::sync::SyncJob {
            org: job.org_id.clone(),
            connection: job.connection_id.clone(),
            holder: holder.to_owned(),
            deadline_ms,
            force_full: false,
            settings: SyncSettings::from_config(&app.config),
        };
        async move {
            let client = shared::sequence::SequenceClient::with_options(&creds.credentials(), opts)
                .map(|c| c.with_deadline(Some(deadline_ms)));
            match client {
                Ok(client) => {
                    let adapter = SequenceAdapter { client };
                    shared::sync::run(&app.store, &adapter, app.clock.as_ref(), &sync_job)
                        .await
                        .map_err(SyncFnError::from)
                }
                Err(e) => Err(SyncFnError::BadEvent(e.to_string())),
            }
        }
    };
    let Some(creds) = credentials(app, &conn.value).await? else {
        mark(
            app,
            &conn,
            ConnectionStatus::NeedsAttention,
            Some("the stored Sequence credentials are missing; connect again"),
            None,
        )
        .await?;
        return Ok(None);
    };
    let mut report = run(creds.clone()).await?;
    if report.outcome.action() == CallerAction::ReReadSecretAndRetryOnce {
        // The secret may have been rotated since this container read it: read it again, retry once.
        let fresh = credentials(app, &conn.value).await?;
        report = match fresh {
            Some(f) if f.client_secret != creds.client_secret || f.client_id != creds.client_id => run(f).await?,
            _ => report,
        };
    }
    let status_change = match report.outcome.action() {
        CallerAction::ReReadSecretAndRetryOnce | CallerAction::NeedsAttention => Some((
            ConnectionStatus::NeedsAttention,
            match &report.outcome {
                Outcome::Unauthorized => {
                    "Sequence rejected the stored Client ID or Secret; update them in the console".to_owned()
                }
                Outcome::Failed { message } => format!("the last sync failed: {message}"),
                other => format!("the last sync needs attention: {other:?}"),
            },
        )),
        _ => None,
    };
    if report.outcome.action() == CallerAction::Reenqueue {
        app.queue
            .enqueue(SyncJob {
                org_id: job.org_id.clone(),
                connection_id: job.connection_id.clone(),
                reason: "continue".into(),
                dedup_id: format!("{}#{}#continue#{}", job.org_id, job.connection_id, app.clock.now_ms()),
            })
            .await?;
    }
    let summary = json!({"outcome": report.outcome, "action": report.outcome.action(), "summary": report.summary});
    match status_change {
        Some((status, reason)) => mark(app, &conn, status, Some(&reason), Some(summary)).await?,
        None if report.outcome != Outcome::Busy => {
            mark(app, &conn, ConnectionStatus::Active, None, Some(summary)).await?
        }
        None => {}
    }
    emit_metrics(&report);
    Ok(Some(report))
}

/// Records the run on the connection (status, reason, last summary); retries once on a concurrent change.
async fn mark<S: Store>(
    app: &App<S>,
    conn: &Versioned<ConnectionRecord>,
    status: ConnectionStatus,
    reason: Option<&str>,
    last_sync: Option<Value>,
) -> Result<(), SyncFnError> {
    let mut current = conn.clone();
    for _ in 0..3 {
        let mut next = current.value.clone();
        if next.status != ConnectionStatus::Disconnected {
            next.status = status;
            next.status_reason = reason.map(str::to_owned);
        }
        if let Some(s) = &last_sync {
            next.last_sync = Some(s.clone());
        }
        next.updated_at = app.now_rfc3339();
        match app.store.write(vec![next.put(current.expect())?]).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_condition_failed() => {
                match connection::get(&app.store, &conn.value.org_id, &conn.value.connection_id).await? {
                    Some(c) => current = c,
                    None => return Ok(()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// One CloudWatch Embedded Metric Format line per run: on stdout inside Lambda (which ships it to
/// CloudWatch Logs as metrics), as a debug log line elsewhere.
fn emit_metrics(report: &RunReport) {
    let s = &report.summary;
    let line = json!({
        "_aws": {
            "Timestamp": s.started_at_ms,
            "CloudWatchMetrics": [{
                "Namespace": "SphereConnector/Sync",
                "Dimensions": [[]],
                "Metrics": [
                    {"Name": "RecordsSeen", "Unit": "Count"},
                    {"Name": "RecordsCreated", "Unit": "Count"},
                    {"Name": "RecordsUpdated", "Unit": "Count"},
                    {"Name": "RecordsQuarantined", "Unit": "Count"},
                    {"Name": "SequenceRequests", "Unit": "Count"},
                    {"Name": "SequenceThrottled", "Unit": "Count"},
                    {"Name": "RunDuration", "Unit": "Milliseconds"}
                ]
            }]
        },
        "RecordsSeen": s.seen,
        "RecordsCreated": s.created,
        "RecordsUpdated": s.updated,
        "RecordsQuarantined": s.quarantined,
        "SequenceRequests": s.requests,
        "SequenceThrottled": s.throttled,
        "RunDuration": s.duration_ms,
        "outcome": report.outcome,
    });
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        println!("{line}");
    } else {
        tracing::debug!(metrics = %line, "sync metrics");
    }
}

/// What the Lambda received: a scheduled tick, or queue messages (one connection each).
pub enum Event {
    Tick,
    Jobs(Vec<SyncJob>),
}

/// Recognises EventBridge scheduled events, our Scheduler input, and SQS batches.
pub fn parse_event(v: &Value) -> Result<Event, SyncFnError> {
    if let Some(records) = v.get("Records").and_then(Value::as_array) {
        let mut jobs = Vec::with_capacity(records.len());
        for r in records {
            let body = r
                .get("body")
                .and_then(Value::as_str)
                .ok_or_else(|| SyncFnError::BadEvent("SQS record without body".into()))?;
            jobs.push(
                serde_json::from_str(body)
                    .map_err(|e| SyncFnError::BadEvent(format!("SQS body is not a sync job: {e}")))?,
            );
        }
        return Ok(Event::Jobs(jobs));
    }
    let scheduled = v.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
        || v.get("action").and_then(Value::as_str) == Some("dispatch");
    if scheduled {
        Ok(Event::Tick)
    } else {
        Err(SyncFnError::BadEvent("neither a scheduled event nor an SQS batch".into()))
    }
}

/// The Lambda handler body: `deadline_ms` from the invocation context, `request_id` as lease holder.
pub async fn handle_event<S: Store>(
    app: &App<S>,
    event: &Value,
    request_id: &str,
    deadline_ms: i64,
) -> Result<Value, SyncFnError> {
    match parse_event(event)? {
        Event::Tick => Ok(json!(dispatch(app).await?)),
        Event::Jobs(jobs) => {
            let mut outcomes = Vec::new();
            for job in &jobs {
                let report = run_job(app, job, request_id, deadline_ms).await?;
                outcomes.push(report.map(|r| json!(r.outcome)).unwrap_or(Value::Null));
            }
            Ok(json!({ "outcomes": outcomes }))
        }
    }
}

/// What `main` runs for each invocation: the deadline from the invocation context, the request id as
/// the lease holder. A failed job returns an error so SQS redelivers it (after 5 receives it moves to
/// the DLQ).
pub async fn handle_lambda<S: Store>(
    app: &App<S>,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let deadline_ms = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
    Ok(handle_event(app, &event.payload, &event.context.request_id, deadline_ms).await?)
}
