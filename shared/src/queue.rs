//! The port through which work reaches the sync function: "sync this connection". In AWS it is an SQS
//! queue (one message per connection, deduplicated per schedule slot); in `sphere-local` an
//! in-process runner. Object-safe, because an `App` holds exactly one.

use crate::domain::{ConnectionId, OrgId};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// The body of one sync message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    /// `schedule`, `manual` or `continue` (a run that ran out of time re-enqueues itself).
    pub reason: String,
    /// Identifies the job for deduplication: connection + schedule slot, or a fresh id.
    pub dedup_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("sync queue unavailable: {0}")]
pub struct QueueError(pub String);

pub type QueueFuture<'a> = Pin<Box<dyn Future<Output = Result<(), QueueError>> + Send + 'a>>;

pub trait SyncQueue: Send + Sync {
    fn enqueue(&self, job: SyncJob) -> QueueFuture<'_>;
}

/// A queue that only remembers what it was given (tests; a server with sync switched off).
#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub jobs: std::sync::Mutex<Vec<SyncJob>>,
}

impl SyncQueue for MemoryQueue {
    fn enqueue(&self, job: SyncJob) -> QueueFuture<'_> {
        Box::pin(async move {
            self.jobs.lock().map_err(|_| QueueError("poisoned".into()))?.push(job);
            Ok(())
        })
    }
}

/// SQS adapter. IAM: `sqs:SendMessage` on the sync queue.
#[cfg(feature = "aws")]
pub mod sqs {
    use super::*;

    pub const IAM_ACTIONS: &[&str] = &["sqs:SendMessage"];

    pub struct SqsQueue {
        pub client: aws_sdk_sqs::Client,
        pub queue_url: String,
    }

    impl SyncQueue for SqsQueue {
        fn enqueue(&self, job: SyncJob) -> QueueFuture<'_> {
            Box::pin(async move {
                let body = serde_json::to_string(&job).map_err(|e| QueueError(e.to_string()))?;
                let mut req = self.client.send_message().queue_url(&self.queue_url).message_body(body);
                if self.queue_url.ends_with(".fifo") {
                    req = req
                        .message_group_id(format!("{}#{}", job.org_id, job.connection_id))
                        .message_deduplication_id(&job.dedup_id);
                }
                req.send().await.map(|_| ()).map_err(|e| QueueError(e.into_service_error().to_string()))
            })
        }
    }
}
