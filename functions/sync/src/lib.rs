//! The `sync` function: the scheduled dispatcher (EventBridge → one queue message per due connection)
//! and the per-connection incremental import of Sequence data into the ledger (SQS → one run).
//!
//! The algorithm is `shared::sync` (pure over ports); this crate wires it to the real Sequence client
//! (`shared::sync::adapter`), the connection record (secret, status, failure state and backoff, last
//! run summary) and the queue:
//! - [`dispatch()`]: the tick; due connections queued and moved to their next slot;
//! - [`run_job`]: one run and what it means for the connection (see `job` for the failure policy);
//! - `metrics`: the CloudWatch EMF line of every run.

mod dispatch;
mod job;
pub mod metrics;

pub use dispatch::{DispatchReport, dispatch};
pub use job::{CLIENT_MAX_RETRY_AFTER, client_deadline_ms, run_job};

use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::queue::SyncMessage;
use shared::store::StoreError;

/// AWS actions this function's code calls (ledger and cursor writes are fenced transactions; the
/// Sequence secret is read, never written; runs out of time or throttled re-enqueue themselves, with
/// `DelaySeconds`, which needs nothing beyond `SendMessage`).
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

/// What fails an invocation (SQS then redelivers the message). A failed *run* is not one of these: it
/// is recorded on the connection and retried by its backoff; these are the failures to record it, to
/// queue work, or to read the event.
#[derive(Debug, thiserror::Error)]
pub enum SyncFnError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[from] shared::queue::QueueError),
    #[error("bad event: {0}")]
    BadEvent(String),
}

/// What the Lambda received: a scheduled tick, or queue messages (one connection each).
pub enum Event {
    Tick,
    Jobs(Vec<SyncMessage>),
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
                outcomes.push(report.map_or(Value::Null, |r| json!(r.outcome)));
            }
            Ok(json!({ "outcomes": outcomes }))
        }
    }
}

/// What `main` runs for each invocation: the deadline from the invocation context, the request id as
/// the lease holder. A job whose result cannot even be recorded returns an error so SQS redelivers
/// it (after 5 receives it moves to the DLQ); a failed run that was recorded is retried by the
/// connection's backoff instead.
pub async fn handle_lambda<S: Store>(
    app: &App<S>,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let deadline_ms = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
    Ok(handle_event(app, &event.payload, &event.context.request_id, deadline_ms).await?)
}
