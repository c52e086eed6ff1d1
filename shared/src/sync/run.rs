//! One sync invocation for one connection: take the lease, run (or resume) the cycle products →
//! customers → invoices → credit notes slice by slice and page by page, and stop cleanly before
//! the deadline.
//!
//! Order of effects for every document: source read → ledger upsert (fenced, idempotent) → only
//! then the tie tracker learns it is committed; cursors are written after the records they cover
//! (see [`super::cursor`] for what may be persisted). Source calls and their failure policy live in
//! [`super::calls`], per-document work in [`super::documents`].

use super::cursor::{
    self, Cycle, PassSpec, PlanParams, Resume, RunCursor, STREAMS, Stream, StreamCursor, TieTracker, needs_full,
    plan_passes,
};
use super::job::{SyncError, SyncJob};
use super::outcome::{Outcome, RunReport, RunSummary};
use super::source::{PageToken, SequenceSource, SourceError};
use crate::clock::Clock;
use crate::ledger::model::DocKind;
use crate::ledger::{Ledger, LedgerError, TxnFilter, keys};
use crate::store::lease::{self, LeaseGuard};
use crate::store::record;
use crate::store::{Expect, ItemStore, Key, StoreError};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::time::Duration;

pub(super) enum Stop {
    Deadline,
    Throttled(Option<Duration>),
    Source(SourceError),
    LeaseLost,
    Store(StoreError),
    Conflict(String),
}

impl Stop {
    /// Stops that checkpoint (the run is healthy, only out of time).
    fn resumable(&self) -> bool {
        matches!(self, Stop::Deadline | Stop::Throttled(_))
    }
}

impl From<LedgerError> for Stop {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Fenced => Stop::LeaseLost,
            LedgerError::Conflict(w) => Stop::Conflict(w),
            LedgerError::Store(s) => Stop::Store(s),
        }
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

/// A cursor item as read, with the expectation its next write must carry.
pub(super) struct Slot<T> {
    key: Key,
    value: T,
    expect: Expect,
}

fn bumped(e: Expect) -> Expect {
    match e {
        Expect::Version(v) => Expect::Version(v + 1),
        Expect::Absent | Expect::Any => Expect::Version(1),
    }
}

pub(super) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(super) struct Runner<'a, S, Q> {
    pub(super) store: &'a S,
    pub(super) source: &'a Q,
    pub(super) clock: &'a dyn Clock,
    pub(super) job: &'a SyncJob,
    pub(super) ledger: Ledger<'a, S>,
    pub(super) guard: LeaseGuard,
    pub(super) run: Slot<RunCursor>,
    pub(super) summary: RunSummary,
    /// A full cycle after the first one: creations/updates are drift repairs.
    pub(super) repairing: bool,
}

/// Runs (or resumes) the sync of one connection until the cycle completes, the deadline nears, or a
/// failure stops it. `Err` only for ledger-store failures; everything else is an [`Outcome`].
pub async fn run<S: ItemStore, Q: SequenceSource>(
    store: &S,
    source: &Q,
    clock: &dyn Clock,
    job: &SyncJob,
) -> Result<RunReport, SyncError> {
    let started = clock.now_ms();
    let mut summary = RunSummary {
        org: job.org.to_string(),
        connection: job.connection.to_string(),
        holder: job.holder.clone(),
        started_at_ms: started,
        ..RunSummary::default()
    };
    if started >= job.deadline_ms.saturating_sub(ms(job.settings.safety_margin)) {
        // Re-enqueueing would spin: the deadline minus the safety margin is already behind us.
        let message = "no time left: the deadline minus the safety margin is in the past".to_owned();
        return Ok(finish(Outcome::Failed { message }, summary, clock));
    }
    let lease_key = keys::lease_key(&job.org, &job.connection);
    let Some(guard) = lease::acquire(store, &lease_key, &job.holder, started, ms(job.settings.lease)).await? else {
        return Ok(finish(Outcome::Busy, summary, clock));
    };
    let run_key = keys::cursor_key(&job.org, &job.connection, "run");
    let run_slot = match load::<RunCursor, S>(store, run_key).await {
        Ok(s) => s,
        Err(e) => {
            let _ = lease::release(store, guard).await;
            return Err(e.into());
        }
    };
    let mut r = Runner {
        store,
        source,
        clock,
        job,
        ledger: Ledger::new(store, job.org.clone(), job.connection.clone()),
        guard,
        run: run_slot,
        summary: std::mem::take(&mut summary),
        repairing: false,
    };
    let result = r.cycle().await;
    let Runner { guard, summary, .. } = r;
    let outcome = match result {
        Ok(()) => Outcome::Done,
        Err(Stop::Deadline) => Outcome::MoreWork { retry_after_ms: None },
        Err(Stop::Throttled(after)) => {
            Outcome::MoreWork { retry_after_ms: after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)) }
        }
        Err(Stop::Source(SourceError::Unauthorized)) => Outcome::Unauthorized,
        Err(Stop::Source(SourceError::Unavailable(m))) => Outcome::SourceUnavailable { message: m },
        Err(Stop::Source(e)) => Outcome::Failed { message: e.to_string() },
        Err(Stop::LeaseLost) => Outcome::LeaseLost,
        Err(Stop::Store(e)) => {
            let _ = lease::release(store, guard).await;
            finish(Outcome::Failed { message: e.to_string() }, summary, clock);
            return Err(SyncError::Store(e));
        }
        Err(Stop::Conflict(w)) => {
            let _ = lease::release(store, guard).await;
            finish(Outcome::Failed { message: w.clone() }, summary, clock);
            return Err(SyncError::Conflict(w));
        }
    };
    if outcome != Outcome::LeaseLost
        && let Err(e) = lease::release(store, guard).await
    {
        // The work is committed; an unreleased lease only delays the next run until it expires.
        tracing::warn!(error = %e, "could not release the sync lease");
    }
    Ok(finish(outcome, summary, clock))
}

fn finish(outcome: Outcome, mut summary: RunSummary, clock: &dyn Clock) -> RunReport {
    summary.duration_ms = clock.now_ms().saturating_sub(summary.started_at_ms);
    summary.more_work = matches!(outcome, Outcome::MoreWork { .. });
    summary.outcome = outcome.name().to_owned();
    let json = serde_json::to_string(&summary).unwrap_or_default();
    tracing::info!(target: "sync", outcome = outcome.name(), summary = %json, "sync run finished");
    RunReport { outcome, summary }
}

async fn load<T: DeserializeOwned + Default, S: ItemStore>(store: &S, key: Key) -> Result<Slot<T>, StoreError> {
    let current = record::get::<T, S>(store, &key).await?;
    let expect = record::expect_of(&current);
    Ok(Slot { key, value: current.map(|v| v.value).unwrap_or_default(), expect })
}

impl<S: ItemStore, Q: SequenceSource> Runner<'_, S, Q> {
    pub(super) fn margin_ms(&self) -> i64 {
        ms(self.job.settings.safety_margin)
    }

    pub(super) fn out_of_time(&self) -> bool {
        self.clock.now_ms() >= self.job.deadline_ms.saturating_sub(self.margin_ms())
    }

    async fn cycle(&mut self) -> Result<(), Stop> {
        let now = self.clock.now_ms();
        let mut cycle = match self.run.value.cycle.clone() {
            Some(c) => c,
            None => Cycle {
                signpost_ms: now,
                full: self.job.force_full || needs_full(&self.run.value, now, ms(self.job.settings.reconcile_every)),
                stream_index: 0,
            },
        };
        self.summary.full_reconciliation = cycle.full;
        self.repairing = cycle.full && self.run.value.last_full_ms.is_some();
        while let Some(&stream) = STREAMS.get(cycle.stream_index) {
            self.run_stream(stream, &mut cycle).await?;
        }
        Ok(())
    }

    /// Writes a stream cursor and the run cursor together, fenced (records were written before).
    async fn write_cursors(&mut self, stream: &mut Slot<StreamCursor>) -> Result<(), Stop> {
        let ops = vec![
            self.guard.check(),
            record::put(stream.key.clone(), &stream.value, stream.expect)?,
            record::put(self.run.key.clone(), &self.run.value, self.run.expect)?,
        ];
        match self.store.write(ops).await {
            Ok(()) => {
                stream.expect = bumped(stream.expect);
                self.run.expect = bumped(self.run.expect);
                Ok(())
            }
            Err(StoreError::ConditionFailed { op: 0 }) => Err(Stop::LeaseLost),
            Err(StoreError::ConditionFailed { .. }) => Err(Stop::Conflict("cursor".into())),
            Err(e) => Err(Stop::Store(e)),
        }
    }

    async fn run_stream(&mut self, stream: Stream, cycle: &mut Cycle) -> Result<(), Stop> {
        let key = keys::cursor_key(&self.job.org, &self.job.connection, stream.as_str());
        let mut slot: Slot<StreamCursor> = load(self.store, key).await?;
        let params = PlanParams {
            lookback_days: self.job.settings.lookback_days,
            slice_days: self.job.settings.slice_days,
            history_start: self.job.settings.history_start,
            today: cursor::signpost(cycle.signpost_ms, 0).date_naive(),
        };
        let passes = plan_passes(stream, cycle.full, slot.value.watermark, &params);
        let (start, floor) = match &slot.value.resume {
            Some(r) if passes.get(r.pass_index) == Some(&r.pass) => (r.pass_index, r.keyset),
            _ => (0, None),
        };
        let fresh = slot.value.resume.is_none();
        let cap = cursor::signpost(cycle.signpost_ms, self.margin_ms());
        let mut seen = HashSet::new();
        for (i, pass) in passes.iter().enumerate().skip(start) {
            let floor = if i == start { floor } else { None };
            let mut pass_seen = HashSet::new();
            if let Err((stop, keyset)) = self.run_pass(stream, pass, floor, cap, &mut pass_seen).await {
                if stop.resumable() {
                    slot.value.resume = Some(Resume { pass_index: i, pass: pass.clone(), keyset });
                    self.run.value.cycle = Some(cycle.clone());
                    self.write_cursors(&mut slot).await?;
                }
                return Err(stop);
            }
            // Reconciliation, invoices: each completed history slice is compared with the ledger's
            // invoices issued in it, so the check holds even when the full pass spans invocations.
            if cycle.full && stream == Stream::Invoices {
                self.report_missing_in_slice(pass, &pass_seen).await?;
            }
            seen.extend(pass_seen);
        }
        // Credit notes: one undated pass in a full cycle, compared as a whole when it ran in one go.
        if cycle.full && fresh && stream == Stream::CreditNotes {
            let stored = self.ledger.list_hashes(DocKind::Credit).await?;
            let missing = stored.into_iter().map(|(id, _, _)| id).filter(|id| !seen.contains(id)).collect();
            self.report_missing(DocKind::Credit, missing);
        }
        let now = self.clock.now_ms();
        slot.value.resume = None;
        slot.value.last_complete_ms = Some(now);
        slot.value.watermark = Some(cursor::watermark_after_cycle(cycle.signpost_ms, self.margin_ms()));
        cycle.stream_index += 1;
        if cycle.stream_index >= STREAMS.len() {
            self.run.value.cycle = None;
            self.run.value.last_complete_ms = Some(now);
            if cycle.full {
                self.run.value.last_full_ms = Some(cycle.signpost_ms);
            }
        } else {
            self.run.value.cycle = Some(cycle.clone());
        }
        self.write_cursors(&mut slot).await?;
        self.summary.streams_completed.push(stream.as_str().to_owned());
        Ok(())
    }

    /// Reconciliation: ledger transactions the full listing did not contain (reported, not deleted).
    fn report_missing(&mut self, kind: DocKind, missing: Vec<String>) {
        if !missing.is_empty() {
            self.summary.missing_in_source += u64::try_from(missing.len()).unwrap_or(u64::MAX);
            let sample: Vec<&String> = missing.iter().take(10).collect();
            tracing::warn!(
                kind = kind.as_str(),
                count = missing.len(),
                ?sample,
                "ledger transactions missing from Sequence"
            );
        }
    }

    /// Ledger invoices issued inside `pass`'s date slice that its listing did not return.
    async fn report_missing_in_slice(&mut self, pass: &PassSpec, seen: &HashSet<String>) -> Result<(), Stop> {
        let from = pass.after.and_then(|a| a.succ_opt());
        let to = pass.before.and_then(|b| b.pred_opt());
        if from.zip(to).is_some_and(|(f, t)| f > t) {
            return Ok(());
        }
        let filter = TxnFilter { from, to, ..TxnFilter::default() };
        let mut missing = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.ledger.query_transactions(&filter, cursor.as_deref(), 500).await?;
            for h in page.items {
                // listings slice by issue date: heads dated by accounting date are not comparable
                let in_slice =
                    h.txn.issue_date.is_some_and(|d| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t));
                if h.txn.kind == DocKind::Invoice && in_slice && !seen.contains(&h.txn.source_id) {
                    missing.push(h.txn.source_id);
                }
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        self.report_missing(DocKind::Invoice, missing);
        Ok(())
    }

    async fn run_pass(
        &mut self,
        stream: Stream,
        pass: &PassSpec,
        floor: Option<DateTime<Utc>>,
        cap: DateTime<Utc>,
        seen: &mut HashSet<String>,
    ) -> Result<(), (Stop, Option<DateTime<Utc>>)> {
        let mut tracker = TieTracker::new(floor);
        let mut dedup = HashSet::new();
        let mut token: Option<PageToken> = None;
        let mut restarted = false;
        loop {
            let page = match self.fetch_page(stream, pass, token.as_ref()).await {
                Ok(p) => p,
                // A continuation refused (an expired page token): restart the slice once; what this
                // pass already processed is skipped by id below.
                Err(Stop::Source(SourceError::Client(m))) if token.is_some() && !restarted => {
                    tracing::warn!(message = %m, stream = stream.as_str(), "page token refused; restarting the slice");
                    restarted = true;
                    token = None;
                    continue;
                }
                Err(s) => return Err((s, tracker.checkpoint(cap))),
            };
            for doc in page.items {
                let key = doc.created_at();
                seen.insert(doc.id().to_owned());
                if !dedup.insert(doc.id().to_owned()) {
                    // already handled in this pass (a repeat, or a restarted slice): not a new position
                    continue;
                }
                if tracker.skip(key) {
                    tracker.committed(key);
                    continue;
                }
                if self.out_of_time() {
                    return Err((Stop::Deadline, tracker.checkpoint(cap)));
                }
                if let Err(s) = self.process(doc).await {
                    return Err((s, tracker.checkpoint(cap)));
                }
                tracker.committed(key);
            }
            match page.next {
                Some(t) => token = Some(t),
                None => return Ok(()),
            }
        }
    }
}
