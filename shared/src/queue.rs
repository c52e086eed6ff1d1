//! The port through which work reaches the sync function: "sync this connection", now or after a
//! delay. In AWS it is an SQS queue (one message per connection, deduplicated per schedule slot; a
//! delay is the message's `DelaySeconds`); in `sphere-local` an in-process runner that holds a
//! delayed job back the same way. Object-safe, because an `App` holds exactly one.
//!
//! Why a delay: a run stopped by Sequence's throttling knows when Sequence will answer again
//! (`Retry-After`); queueing the continuation at once would only spend an invocation waiting, or
//! spin. Delays are capped at [`MAX_DELAY`], SQS's limit, by every adapter alike.

use crate::domain::{ConnectionId, OrgId};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The longest a job can be held back: SQS's `DelaySeconds` maximum (15 minutes). A longer wait is
/// cut to this; a run that starts while Sequence still throttles stops again with a new delay.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// `delay` cut to [`MAX_DELAY`].
pub fn clamp_delay(delay: Duration) -> Duration {
    delay.min(MAX_DELAY)
}

/// The body of one sync message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMessage {
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    /// `schedule`, `manual` or `continue` (a run that ran out of time re-enqueues itself).
    pub reason: String,
    /// Identifies the job for deduplication: connection + schedule slot, or a fresh id.
    pub dedup_id: String,
    /// `reason` `webhook`: only these documents, re-fetched by id (a targeted job); empty for a whole run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<crate::webhook::Target>,
}

#[derive(Debug, thiserror::Error)]
#[error("sync queue unavailable: {0}")]
pub struct QueueError(pub String);

pub type QueueFuture<'a> = Pin<Box<dyn Future<Output = Result<(), QueueError>> + Send + 'a>>;

pub trait SyncQueue: Send + Sync {
    /// Delivers `job` once `delay` has passed (zero: at once), the delay cut to [`MAX_DELAY`].
    fn enqueue_after(&self, job: SyncMessage, delay: Duration) -> QueueFuture<'_>;

    /// Delivers `job` at once.
    fn enqueue(&self, job: SyncMessage) -> QueueFuture<'_> {
        self.enqueue_after(job, Duration::ZERO)
    }
}

/// A queue that only remembers what it was given, with each job's delay (tests; a server with sync
/// switched off).
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub queued: std::sync::Mutex<Vec<(SyncMessage, Duration)>>,
}

impl MemoryQueue {
    /// The jobs queued so far, oldest first.
    pub fn jobs(&self) -> Vec<SyncMessage> {
        self.queued.lock().map(|q| q.iter().map(|(j, _)| j.clone()).collect()).unwrap_or_default()
    }

    /// Takes every queued job (and its delay) out of the queue.
    pub fn take(&self) -> Vec<(SyncMessage, Duration)> {
        self.queued.lock().map(|mut q| std::mem::take(&mut *q)).unwrap_or_default()
    }
}

impl SyncQueue for MemoryQueue {
    fn enqueue_after(&self, job: SyncMessage, delay: Duration) -> QueueFuture<'_> {
        Box::pin(async move {
            self.queued.lock().map_err(|_| QueueError("poisoned".into()))?.push((job, clamp_delay(delay)));
            Ok(())
        })
    }
}

/// SQS adapter. IAM: `sqs:SendMessage` on the sync queue.
#[cfg(feature = "aws")]
pub mod sqs {
    use super::{Duration, QueueError, QueueFuture, SyncMessage, SyncQueue, clamp_delay};

    pub const IAM_ACTIONS: &[&str] = &["sqs:SendMessage"];

    pub struct SqsQueue {
        pub client: aws_sdk_sqs::Client,
        pub queue_url: String,
    }

    /// `DelaySeconds` for `delay`: whole seconds, rounded up (a Retry-After of 1.2 s must not be
    /// retried after 1 s), at most [`MAX_DELAY`].
    pub fn delay_seconds(delay: Duration) -> i32 {
        let secs = clamp_delay(delay).as_millis().div_ceil(1_000);
        i32::try_from(secs).unwrap_or(i32::MAX)
    }

    impl SyncQueue for SqsQueue {
        fn enqueue_after(&self, job: SyncMessage, delay: Duration) -> QueueFuture<'_> {
            Box::pin(async move {
                let body = serde_json::to_string(&job).map_err(|e| QueueError(e.to_string()))?;
                let mut req = self.client.send_message().queue_url(&self.queue_url).message_body(body);
                let fifo = self.queue_url.to_ascii_lowercase().ends_with(".fifo");
                if fifo {
                    req = req
                        .message_group_id(format!("{}#{}", job.org_id, job.connection_id))
                        .message_deduplication_id(&job.dedup_id);
                }
                let seconds = delay_seconds(delay);
                if seconds > 0 {
                    if fifo {
                        // FIFO queues refuse per-message delays; sending at once could spin on a
                        // throttled account, so refuse instead (the invocation fails and SQS redelivers
                        // the original message after its visibility timeout). The template's queue is standard.
                        return Err(QueueError("a FIFO queue cannot delay one message; use a standard queue".into()));
                    }
                    req = req.delay_seconds(seconds);
                }
                req.send().await.map(|_| ()).map_err(|e| QueueError(e.into_service_error().to_string()))
            })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn delays_round_up_to_whole_seconds_and_stop_at_fifteen_minutes() {
            assert_eq!(delay_seconds(Duration::ZERO), 0);
            assert_eq!(delay_seconds(Duration::from_millis(1_200)), 2);
            assert_eq!(delay_seconds(Duration::from_secs(120)), 120);
            assert_eq!(delay_seconds(Duration::from_secs(3_600)), 900);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> SyncMessage {
        SyncMessage {
            org_id: OrgId::parse("o1").unwrap(),
            connection_id: ConnectionId::parse("c1").unwrap(),
            reason: "continue".into(),
            dedup_id: "d".into(),
            targets: Vec::new(),
        }
    }

    #[tokio::test]
    async fn the_memory_queue_keeps_each_delay_cut_to_the_maximum() {
        let q = MemoryQueue::default();
        q.enqueue(job()).await.unwrap();
        q.enqueue_after(job(), Duration::from_secs(120)).await.unwrap();
        q.enqueue_after(job(), Duration::from_secs(4_000)).await.unwrap();
        assert_eq!(q.jobs().len(), 3);
        let delays: Vec<u64> = q.take().into_iter().map(|(_, d)| d.as_secs()).collect();
        assert_eq!(delays, vec![0, 120, 900]);
        assert!(q.jobs().is_empty());
    }
}
