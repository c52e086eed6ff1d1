//! The in-process stand-in for SQS + the scheduled dispatcher in `sphere-local`: "sync now" and the
//! periodic tick put jobs on a channel; one task runs them one at a time through the very same
//! `sync::run_job` the Lambda calls. A delayed job (a run throttled by Sequence continues after its
//! `Retry-After`) is held back by a timer task, like SQS's `DelaySeconds`, with the same 15-minute cap.

use shared::app::{App, Store};
use shared::queue::{QueueError, QueueFuture, SyncMessage, SyncQueue, clamp_delay};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Time one local run may take before it checkpoints and re-enqueues itself.
const RUN_BUDGET_MS: i64 = 5 * 60 * 1000;

pub struct LocalQueue {
    tx: mpsc::UnboundedSender<SyncMessage>,
    pending: Arc<AtomicUsize>,
}

impl LocalQueue {
    /// A queue and the receiving end its jobs arrive on (each once its delay has passed).
    pub fn channel() -> (LocalQueue, mpsc::UnboundedReceiver<SyncMessage>, Pending) {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Pending::default();
        (LocalQueue { tx, pending: pending.0.clone() }, rx, pending)
    }
}

impl SyncQueue for LocalQueue {
    fn enqueue_after(&self, job: SyncMessage, delay: Duration) -> QueueFuture<'_> {
        Box::pin(async move {
            if self.tx.is_closed() {
                return Err(QueueError("the local sync worker has stopped".into()));
            }
            // counted from now: a delayed job is work still to do
            self.pending.fetch_add(1, Ordering::SeqCst);
            let delay = clamp_delay(delay);
            if delay.is_zero() {
                return self.tx.send(job).map_err(|_| {
                    self.pending.fetch_sub(1, Ordering::SeqCst);
                    QueueError("the local sync worker has stopped".into())
                });
            }
            let (tx, pending) = (self.tx.clone(), Arc::clone(&self.pending));
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if tx.send(job).is_err() {
                    pending.fetch_sub(1, Ordering::SeqCst);
                }
            });
            Ok(())
        })
    }
}

/// Jobs queued (delayed ones included) or running; lets callers wait for the worker to be idle.
#[derive(Clone, Default)]
pub struct Pending(Arc<AtomicUsize>);

impl Pending {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits (bounded by `timeout`) until no sync job is queued or running.
    pub async fn idle(&self, timeout: std::time::Duration) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        while self.count() > 0 {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        true
    }
}

/// Gives `app` a local queue and starts the worker (and, if `tick` is set, the periodic dispatcher).
pub fn start<S: Store + Sync>(app: App<S>, tick: Option<std::time::Duration>) -> (App<S>, Pending) {
    let (queue, mut rx, pending) = LocalQueue::channel();
    let app = app.with_queue(Arc::new(queue));
    let worker_app = sync::State::of(&app);
    let worker_pending = pending.clone();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let holder = format!("local-{}", shared::domain::new_uuid());
            let deadline = worker_app.clock.now_ms() + RUN_BUDGET_MS;
            match sync::run_job(&worker_app, &job, &holder, deadline).await {
                Ok(Some(r)) => {
                    tracing::info!(connection = %job.connection_id, outcome = ?r.outcome, "sync run finished");
                }
                Ok(None) => {}
                Err(e) => tracing::error!(connection = %job.connection_id, error = %e, "sync run failed"),
            }
            worker_pending.0.fetch_sub(1, Ordering::SeqCst);
        }
    });
    if let Some(every) = tick {
        let tick_app = sync::State::of(&app);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                interval.tick().await;
                if let Err(e) = sync::dispatch(&tick_app).await {
                    tracing::warn!(error = %e, "local sync dispatch failed");
                }
            }
        });
    }
    (app, pending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::{ConnectionId, OrgId};

    fn job() -> SyncMessage {
        SyncMessage {
            org_id: OrgId::parse("o1").unwrap(),
            connection_id: ConnectionId::parse("c1").unwrap(),
            reason: "continue".into(),
            dedup_id: "d".into(),
            targets: Vec::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_delayed_job_arrives_only_after_its_delay_and_counts_as_pending_meanwhile() {
        let (queue, mut rx, pending) = LocalQueue::channel();
        queue.enqueue_after(job(), Duration::from_secs(120)).await.unwrap();
        assert_eq!(pending.count(), 1);
        tokio::time::sleep(Duration::from_secs(119)).await;
        assert!(rx.try_recv().is_err(), "not before the delay");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(rx.try_recv().unwrap(), job());
        // undelayed jobs go straight through
        queue.enqueue(job()).await.unwrap();
        assert!(rx.try_recv().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn delays_are_cut_to_the_queue_maximum() {
        let (queue, mut rx, _) = LocalQueue::channel();
        queue.enqueue_after(job(), Duration::from_secs(3_600)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(899)).await;
        assert!(rx.try_recv().is_err());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(rx.try_recv().is_ok(), "held back 900 s, not an hour");
    }
}
