//! The in-process stand-in for SQS + the scheduled dispatcher in `sphere-local`: "sync now" and the
//! periodic tick put jobs on a channel; one task runs them one at a time through the very same
//! `sync::run_job` the Lambda calls.

use shared::app::{App, Store};
use shared::queue::{QueueError, QueueFuture, SyncJob, SyncQueue};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;

/// Time one local run may take before it checkpoints and re-enqueues itself.
const RUN_BUDGET_MS: i64 = 5 * 60 * 1000;

pub struct LocalQueue {
    tx: mpsc::UnboundedSender<SyncJob>,
    pending: Arc<AtomicUsize>,
}

impl SyncQueue for LocalQueue {
    fn enqueue(&self, job: SyncJob) -> QueueFuture<'_> {
        Box::pin(async move {
            self.pending.fetch_add(1, Ordering::SeqCst);
            self.tx.send(job).map_err(|_| {
                self.pending.fetch_sub(1, Ordering::SeqCst);
                QueueError("the local sync worker has stopped".into())
            })
        })
    }
}

/// Jobs queued or running; lets callers wait for the worker to be idle.
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
    let (tx, mut rx) = mpsc::unbounded_channel::<SyncJob>();
    let pending = Pending::default();
    let app = app.with_queue(Arc::new(LocalQueue { tx, pending: pending.0.clone() }));
    let worker_app = app.clone();
    let worker_pending = pending.clone();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let holder = format!("local-{}", shared::domain::new_uuid());
            let deadline = worker_app.clock.now_ms() + RUN_BUDGET_MS;
            match sync::run_job(&worker_app, &job, &holder, deadline).await {
                Ok(Some(r)) => {
                    tracing::info!(connection = %job.connection_id, outcome = ?r.outcome, "sync run finished")
                }
                Ok(None) => {}
                Err(e) => tracing::error!(connection = %job.connection_id, error = %e, "sync run failed"),
            }
            worker_pending.0.fetch_sub(1, Ordering::SeqCst);
        }
    });
    if let Some(every) = tick {
        let tick_app = app.clone();
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
