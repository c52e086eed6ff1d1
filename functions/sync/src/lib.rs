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
mod state;

pub use dispatch::{DispatchReport, dispatch};
pub use job::{CLIENT_MAX_RETRY_AFTER, client_deadline_ms, run_job};
pub use state::State;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEventObj;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::Store;
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
#[derive(Debug)]
pub enum Event {
    Tick,
    Jobs(Vec<SyncMessage>),
}

/// The input our EventBridge Scheduler schedule sends (template.yaml): `{"action": "dispatch"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchedulerInput {
    action: SchedulerAction,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SchedulerAction {
    Dispatch,
}

/// Reads the invocation as the typed event it is: an SQS batch whose bodies are [`SyncMessage`]s
/// (`aws_lambda_events` `SqsEventObj`), an EventBridge scheduled event (`EventBridgeEvent`, detail type
/// `Scheduled Event`), or our Scheduler input. Anything else is an error naming what was wrong.
pub fn parse_event(v: Value) -> Result<Event, SyncFnError> {
    if v.get("Records").is_some() {
        let batch: SqsEventObj<SyncMessage> = serde_json::from_value(v)
            .map_err(|e| SyncFnError::BadEvent(format!("SQS batch whose body is not a sync message: {e}")))?;
        return Ok(Event::Jobs(batch.records.into_iter().map(|r| r.body).collect()));
    }
    if v.get("detail-type").is_some() {
        let event: EventBridgeEvent = serde_json::from_value(v)
            .map_err(|e| SyncFnError::BadEvent(format!("unreadable EventBridge event: {e}")))?;
        return if event.detail_type == "Scheduled Event" {
            Ok(Event::Tick)
        } else {
            Err(SyncFnError::BadEvent(format!("EventBridge event of type {:?}, not a schedule", event.detail_type)))
        };
    }
    match serde_json::from_value::<SchedulerInput>(v) {
        Ok(SchedulerInput { action: SchedulerAction::Dispatch }) => Ok(Event::Tick),
        Err(e) => Err(SyncFnError::BadEvent(format!("neither a scheduled event nor an SQS batch: {e}"))),
    }
}

/// The Lambda handler body: `deadline_ms` from the invocation context, `request_id` as lease holder.
pub async fn handle_event<S: Store>(
    app: &State<S>,
    event: Value,
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
    app: &State<S>,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let deadline_ms = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
    Ok(handle_event(app, event.payload, &event.context.request_id, deadline_ms).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(v: Value) -> Result<Event, String> {
        parse_event(v).map_err(|e| e.to_string())
    }

    #[test]
    fn each_event_shape_is_read_as_its_type() {
        let tick = json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-26T10:00:00Z", "region": "eu-west-1", "resources": [], "detail": {}});
        assert!(matches!(parsed(tick), Ok(Event::Tick)));
        assert!(matches!(parsed(json!({"action": "dispatch"})), Ok(Event::Tick)));
        let body =
            json!({"org_id": "org_a", "connection_id": "conn_1", "reason": "manual", "dedup_id": "d1"}).to_string();
        let batch = json!({"Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs"}]});
        let Ok(Event::Jobs(jobs)) = parsed(batch) else { panic!("an SQS batch") };
        assert_eq!(jobs[0].connection_id.as_str(), "conn_1");
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        let other = json!({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}});
        assert!(parsed(other).unwrap_err().contains("not a schedule"));
        assert!(parsed(json!({"action": "purge"})).unwrap_err().contains("neither"));
        assert!(parsed(json!({"action": "dispatch", "extra": 1})).unwrap_err().contains("neither"));
        let bad_body = json!({"Records": [{"body": "{\"org_id\": 1}"}]});
        assert!(parsed(bad_body).unwrap_err().contains("not a sync message"));
    }
}
