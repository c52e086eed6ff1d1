//! One sync invocation for one connection: take the lease, run (or resume) the cycle products →
//! customers → invoices → credit notes slice by slice and page by page, and stop cleanly before
//! the deadline.
//!
//! Order of effects for every document: source read → ledger upsert (fenced, idempotent) → only
//! then the tie tracker learns it is committed; cursors are written after the records they cover
//! (see [`super::cursor`] for what may be persisted). Source calls and their failure policy live in
//! [`super::calls`], per-document work in [`super::documents`].

use super::cursor::{
    self, Cycle, PassSpec, PlanParams, Resume, ResumeToken, RunCursor, STREAMS, Stream, StreamCursor, TieTracker,
    needs_full, plan_passes,
};
use super::job::{RunRequest, SyncError};
use super::outcome::{Outcome, RunReport, RunSummary};
use super::source::{PageToken, SequenceSource, SourceError};
use crate::clock::Clock;
use crate::layout;
use crate::ledger::model::{DocKind, QuarantineRecord};
use crate::ledger::{Ledger, LedgerError, TxnFilter};
use crate::store::lease::{self, LeaseGuard};
use crate::store::record;
use crate::store::{Expect, ItemStore, Key, StoreError};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
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
    pub(super) job: &'a RunRequest,
    pub(super) ledger: Ledger<'a, S>,
    pub(super) guard: LeaseGuard,
    pub(super) run: Slot<RunCursor>,
    pub(super) summary: RunSummary,
    /// A full cycle after the first one: creations/updates are drift repairs.
    pub(super) repairing: bool,
    /// The connection's quarantine entries by `(kind, Sequence id)`, loaded once per run.
    pub(super) quarantined: HashMap<(String, String), QuarantineRecord>,
    /// Re-evaluating a quarantined document fetched by id: nothing is skipped as unchanged.
    pub(super) rechecking: bool,
    /// Documents evaluated in this invocation, `(kind, id)`: not retried by id again.
    pub(super) evaluated: HashSet<(String, String)>,
    /// The longest a page of a listing took (fetch and documents) in this invocation: a next page
    /// is only fetched when that much time is left, so a page is not fetched and then abandoned.
    pub(super) page_ms_max: i64,
}

/// Runs (or resumes) the sync of one connection until the cycle completes, the deadline nears, or a
/// failure stops it. `Err` only for ledger-store failures; everything else is an [`Outcome`].
pub async fn run<S: ItemStore, Q: SequenceSource>(
    store: &S,
    source: &Q,
    clock: &dyn Clock,
    job: &RunRequest,
) -> Result<RunReport, SyncError> {
    let started = clock.now_ms();
    let summary = RunSummary {
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
    let mut r = match start(store, source, clock, job, summary).await? {
        Started::Runner(r) => *r,
        Started::Busy(summary) => return Ok(finish(Outcome::Busy, *summary, clock)),
    };
    let result = r.cycle().await;
    conclude(store, clock, r, result).await
}

/// A targeted run (webhooks): only `targets`, each re-fetched by id from Sequence — never taken from the webhook —
/// and upserted under the connection's lease with the same rules as a scheduled run (fenced, idempotent, stale
/// versions refused, unreadable documents quarantined). No cursor moves: the schedule stays the source of truth.
/// A document Sequence no longer has is left to the scheduled run (a deleted draft never reached the ledger).
pub async fn run_targets<S: ItemStore, Q: SequenceSource>(
    store: &S,
    source: &Q,
    clock: &dyn Clock,
    job: &RunRequest,
    targets: &[crate::webhook::Target],
) -> Result<RunReport, SyncError> {
    let summary = RunSummary {
        org: job.org.to_string(),
        connection: job.connection.to_string(),
        holder: job.holder.clone(),
        started_at_ms: clock.now_ms(),
        ..RunSummary::default()
    };
    let mut r = match start(store, source, clock, job, summary).await? {
        Started::Runner(r) => *r,
        Started::Busy(summary) => return Ok(finish(Outcome::Busy, *summary, clock)),
    };
    let result = r.targets(targets).await;
    conclude(store, clock, r, result).await
}

impl<S: ItemStore, Q: SequenceSource> Runner<'_, S, Q> {
    async fn targets(&mut self, targets: &[crate::webhook::Target]) -> Result<(), Stop> {
        for t in targets {
            if self.out_of_time() {
                return Err(Stop::Deadline);
            }
            let kind = t.stream.quarantine_kind();
            match self.fetch_one(t.stream, &t.id).await {
                Ok(Ok(doc)) => self.process(doc).await?,
                Ok(Err(rejected)) => self.quarantine_rejected(kind, rejected).await?,
                Err(Stop::Source(SourceError::NotFound)) => {
                    tracing::info!(kind, id = %t.id, "webhook named a document Sequence does not have: left to the schedule");
                    self.summary.missing_in_source += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Releases the lease (unless it was lost) and turns how the work stopped into the run's outcome.
async fn conclude<S: ItemStore, Q: SequenceSource>(
    store: &S,
    clock: &dyn Clock,
    r: Runner<'_, S, Q>,
    result: Result<(), Stop>,
) -> Result<RunReport, SyncError> {
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

/// What taking the lease led to.
enum Started<'a, S, Q> {
    Runner(Box<Runner<'a, S, Q>>),
    /// Another run holds the lease.
    Busy(Box<RunSummary>),
}

/// Takes the connection's lease and loads what every run needs (run cursor, quarantine), with the counters
/// built if this ledger predates them. On a store failure the lease is released again.
async fn start<'a, S: ItemStore, Q: SequenceSource>(
    store: &'a S,
    source: &'a Q,
    clock: &'a dyn Clock,
    job: &'a RunRequest,
    summary: RunSummary,
) -> Result<Started<'a, S, Q>, SyncError> {
    let started = summary.started_at_ms;
    let lease_key = layout::lease_key(&job.org, &job.connection);
    let Some(guard) = lease::acquire(store, &lease_key, &job.holder, started, ms(job.settings.lease)).await? else {
        return Ok(Started::Busy(Box::new(summary)));
    };
    let run_key = layout::cursor_key(&job.org, &job.connection, "run");
    let run_slot = match load::<RunCursor, S>(store, run_key).await {
        Ok(s) => s,
        Err(e) => {
            let _ = lease::release(store, guard).await;
            return Err(e.into());
        }
    };
    let ledger = Ledger::new(store, job.org.clone(), job.connection.clone());
    let quarantined = match ledger.list_quarantine().await {
        Ok(q) => q.into_iter().map(|q| ((q.kind.clone(), q.source_id.clone()), q)).collect(),
        Err(e) => {
            let _ = lease::release(store, guard).await;
            return Err(match e {
                LedgerError::Store(s) => SyncError::Store(s),
                other => SyncError::Conflict(other.to_string()),
            });
        }
    };
    if let Err(e) = ledger.ensure_counters(&guard).await {
        if !matches!(e, LedgerError::Fenced) {
            let _ = lease::release(store, guard).await;
        }
        return Err(match e {
            LedgerError::Store(s) => SyncError::Store(s),
            other => SyncError::Conflict(other.to_string()),
        });
    }
    Ok(Started::Runner(Box::new(Runner {
        store,
        source,
        clock,
        job,
        ledger,
        guard,
        run: run_slot,
        summary,
        repairing: false,
        quarantined,
        rechecking: false,
        evaluated: HashSet::new(),
        page_ms_max: 0,
    })))
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
    let expect = record::if_unchanged_or_absent(&current);
    Ok(Slot { key, value: current.map(|v| v.value).unwrap_or_default(), expect })
}

impl<S: ItemStore, Q: SequenceSource> Runner<'_, S, Q> {
    pub(super) fn margin_ms(&self) -> i64 {
        ms(self.job.settings.safety_margin)
    }

    pub(super) fn deadline_with_margin(&self) -> i64 {
        self.job.deadline_ms.saturating_sub(self.margin_ms())
    }

    pub(super) fn out_of_time(&self) -> bool {
        self.clock.now_ms() >= self.deadline_with_margin()
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
        // Quarantined documents the listings did not show (older than the lookback window, or gone).
        self.retry_quarantined().await
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
                self.summary.checkpoints += 1;
                Ok(())
            }
            Err(StoreError::ConditionFailed { op: 0 }) => Err(Stop::LeaseLost),
            Err(StoreError::ConditionFailed { .. }) => Err(Stop::Conflict("cursor".into())),
            Err(e) => Err(Stop::Store(e)),
        }
    }

    async fn run_stream(&mut self, stream: Stream, cycle: &mut Cycle) -> Result<(), Stop> {
        let key = layout::cursor_key(&self.job.org, &self.job.connection, stream.as_str());
        let mut slot: Slot<StreamCursor> = load(self.store, key).await?;
        let params = PlanParams {
            lookback_days: self.job.settings.lookback_days,
            slice_days: self.job.settings.slice_days,
            history_start: self.job.settings.history_start,
            today: cursor::signpost(cycle.signpost_ms, 0).date_naive(),
        };
        let passes = plan_passes(stream, cycle.full, slot.value.watermark, &params);
        let (start, resume) = match &slot.value.resume {
            Some(r) if passes.get(r.pass_index) == Some(&r.pass) => (r.pass_index, Some(r.clone())),
            _ => (0, None),
        };
        let fresh = slot.value.resume.is_none();
        let cap = cursor::signpost(cycle.signpost_ms, self.margin_ms());
        let mut seen = HashSet::new();
        let mut resume = resume;
        for (i, pass) in passes.iter().enumerate().skip(start) {
            let mut pass_seen = HashSet::new();
            let at = PassAt { stream, index: i, pass, cap };
            let whole = self.run_pass(&at, resume.take(), &mut pass_seen, &mut slot, cycle).await?;
            // Reconciliation, invoices: each completed history slice is compared with the ledger's
            // invoices issued in it, so the check holds even when the full pass spans invocations
            // (a slice resumed mid-way did not list its first pages here, and is not compared).
            if cycle.full && stream == Stream::Invoices && whole {
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

    /// Writes where a pass stands (the documents before it are committed).
    async fn checkpoint(
        &mut self,
        at: &PassAt<'_>,
        keyset: Option<DateTime<Utc>>,
        token: Option<&PageToken>,
        slot: &mut Slot<StreamCursor>,
        cycle: &Cycle,
    ) -> Result<(), Stop> {
        let saved_at_ms = self.clock.now_ms();
        slot.value.resume = Some(Resume {
            pass_index: at.index,
            pass: at.pass.clone(),
            keyset,
            token: token.map(|t| ResumeToken { token: t.0.clone(), saved_at_ms }),
        });
        self.run.value.cycle = Some(cycle.clone());
        self.write_cursors(slot).await
    }

    /// One listing, page by page, with a checkpoint after every page. Returns whether the listing
    /// ran from its first page in this invocation (so `seen` holds all of it).
    async fn run_pass(
        &mut self,
        at: &PassAt<'_>,
        resume: Option<Resume>,
        seen: &mut HashSet<String>,
        slot: &mut Slot<StreamCursor>,
        cycle: &Cycle,
    ) -> Result<bool, Stop> {
        let floor = resume.as_ref().and_then(|r| r.keyset);
        let ttl = ms(self.job.settings.resume_token_ttl);
        let now = self.clock.now_ms();
        let mut token = resume.and_then(|r| r.token).filter(|t| t.usable(now, ttl)).map(|t| PageToken(t.token));
        let mut whole = token.is_none();
        let mut tracker = TieTracker::new(floor);
        let mut dedup = HashSet::new();
        let mut restarted = false;
        loop {
            if self.clock.now_ms().saturating_add(self.page_ms_max) >= self.deadline_with_margin() {
                // Not enough time for another page like the slowest one: stop before fetching it.
                return self
                    .stop_pass(Stop::Deadline, at, tracker.checkpoint(at.cap), token.as_ref(), slot, cycle)
                    .await;
            }
            let page_started = self.clock.now_ms();
            let page = match self.fetch_page(at.stream, at.pass, token.as_ref()).await {
                Ok(p) => p,
                // A continuation refused (an expired page token): restart the slice once; what this
                // pass already processed is skipped by id below, and by the keyset floor.
                Err(Stop::Source(SourceError::Client(m))) if token.is_some() && !restarted => {
                    tracing::warn!(message = %m, stream = at.stream.as_str(), "page token refused; restarting the slice");
                    restarted = true;
                    whole = true;
                    token = None;
                    continue;
                }
                Err(s) => {
                    return self.stop_pass(s, at, tracker.checkpoint(at.cap), token.as_ref(), slot, cycle).await;
                }
            };
            for r in page.rejected {
                if let Some(id) = &r.id {
                    seen.insert(id.clone());
                }
                let kind = at.stream.quarantine_kind();
                if let Err(s) = self.quarantine_rejected(kind, r).await {
                    return self.stop_pass(s, at, tracker.checkpoint(at.cap), token.as_ref(), slot, cycle).await;
                }
            }
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
                let stop = if self.out_of_time() { Some(Stop::Deadline) } else { self.process(doc).await.err() };
                if let Some(s) = stop {
                    // resumes at this page (its documents so far are committed and replay as no-ops)
                    return self.stop_pass(s, at, tracker.checkpoint(at.cap), token.as_ref(), slot, cycle).await;
                }
                tracker.committed(key);
            }
            self.page_ms_max = self.page_ms_max.max(self.clock.now_ms().saturating_sub(page_started));
            match page.next {
                Some(t) => {
                    token = Some(t);
                    self.checkpoint(at, tracker.checkpoint(at.cap), token.as_ref(), slot, cycle).await?;
                }
                None => return Ok(whole),
            }
        }
    }

    /// A pass stops: resumable stops (deadline, throttling) checkpoint first.
    async fn stop_pass(
        &mut self,
        stop: Stop,
        at: &PassAt<'_>,
        keyset: Option<DateTime<Utc>>,
        token: Option<&PageToken>,
        slot: &mut Slot<StreamCursor>,
        cycle: &Cycle,
    ) -> Result<bool, Stop> {
        if stop.resumable() {
            self.checkpoint(at, keyset, token, slot, cycle).await?;
        }
        Err(stop)
    }
}

/// Which pass of which stream is running.
struct PassAt<'p> {
    stream: Stream,
    index: usize,
    pass: &'p PassSpec,
    /// No keyset may pass this (the cycle's signpost minus the margin).
    cap: DateTime<Utc>,
}
