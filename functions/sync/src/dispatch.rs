//! The scheduled tick: one queue message per due connection, each then moved to its next slot by
//! `shared::sync::schedule` — the same rule a failed run applies, so the two never disagree.

use crate::State;
use crate::SyncFnError;
use serde::Serialize;
use shared::app::Store;
use shared::connection;
use shared::queue::SyncMessage;

/// Most connections one dispatch enqueues (the rest are still due at the next tick).
const DISPATCH_BATCH: usize = 500;

#[derive(Debug, Serialize)]
pub struct DispatchReport {
    pub due: usize,
    pub enqueued: usize,
}

/// One queue message per due connection, then each moved to its next slot (the interval when healthy,
/// its backoff while failing).
pub async fn dispatch<S: Store>(app: &State<S>) -> Result<DispatchReport, SyncFnError> {
    let now = app.clock.now_ms();
    let interval = app.config.sync_interval();
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX).max(1);
    let due = connection::due(&app.store, now, DISPATCH_BATCH).await?;
    let mut enqueued = 0;
    for c in &due {
        let slot = now / interval_ms;
        app.queue
            .enqueue(SyncMessage {
                org_id: c.org_id.clone(),
                connection_id: c.connection_id.clone(),
                reason: "schedule".into(),
                dedup_id: format!("{}#{}#{slot}", c.org_id, c.connection_id),
                targets: Vec::new(),
            })
            .await?;
        enqueued += 1;
        // Move it to its next slot, from a consistent read (the index is eventually consistent, so its
        // copy's version may lag). A concurrent change (a run finishing) wins and is fine: a run that
        // finished first has already applied the same rule.
        if let Some(cur) = connection::get(&app.store, &c.org_id, &c.connection_id).await? {
            let mut next = cur.value.clone();
            next.reschedule(now, interval);
            match app.store.write(vec![next.put(cur.if_unchanged())?]).await {
                Err(e) if !e.is_condition_failed() => return Err(e.into()),
                _ => {}
            }
        }
    }
    let report = DispatchReport { due: due.len(), enqueued };
    tracing::info!(due = report.due, enqueued = report.enqueued, "sync dispatch");
    Ok(report)
}
