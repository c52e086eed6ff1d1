//! One sync invocation for one connection: take the lease, run (or resume) the cycle products →
//! customers → invoices → credit notes page by page, and stop cleanly before the deadline.
//!
//! Order of effects for every document: source read → ledger upsert (fenced, idempotent) → only
//! then the tie tracker learns it is committed; cursors are written after the records they cover
//! (see [`super::cursor`] for what may be persisted). Failures map to a typed [`Outcome`]: throttling
//! waits only while the wait ends before `deadline − safety margin`, otherwise the run checkpoints
//! and returns `MoreWork`; Unavailable / Unauthorized / Client errors stop without moving the
//! failing stream's cursor.

use super::cursor::{
    self, Cycle, PassSpec, PlanParams, Resume, RunCursor, STREAMS, Stream, StreamCursor, TieTracker, needs_full,
    plan_passes,
};
use super::map::{self, Mapped, ResolvedTaxStatus};
use super::outcome::{Outcome, RunReport, RunSummary};
use super::source::{
    CreditNoteQuery, CreditNoteStatus, InvoiceQuery, InvoiceStatus, PageToken, SequenceSource, SourceCreditNote,
    SourceCustomer, SourceError, SourceInvoice, SourceLine, SourcePage, SourceProduct,
};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{ConnectionId, OrgId};
use crate::ledger::model::{CustomerTaxStatus, DocKind, QuarantineRecord};
use crate::ledger::{Ledger, LedgerError, TxnFilter, Upsert, keys};
use crate::store::lease::{self, LeaseGuard};
use crate::store::record;
use crate::store::{Expect, ItemStore, Key, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::time::Duration;

/// Tunables of a run (from [`Config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// Days re-read before the watermark every cycle.
    pub lookback_days: u32,
    /// Full reconciliation cadence.
    pub reconcile_every: Duration,
    /// Stop (checkpoint, release, `MoreWork`) when less than this remains before the deadline.
    pub safety_margin: Duration,
    /// Lease duration; renewed before a source call once half of it has passed.
    pub lease: Duration,
    /// Most throttled waits per call before giving up with `MoreWork`.
    pub max_throttle_waits: u32,
    /// Width of one date slice of a dated listing (bounds the re-paging after a stop).
    pub slice_days: u32,
    /// Full passes slice history from this date (one catch-all slice before it).
    pub history_start: chrono::NaiveDate,
}

impl SyncSettings {
    pub fn from_config(c: &Config) -> Self {
        SyncSettings {
            lookback_days: c.sync_lookback_days,
            reconcile_every: Duration::from_secs(u64::from(c.sync_reconcile_days) * 86_400),
            safety_margin: c.sync_safety_margin,
            lease: c.sync_lease,
            max_throttle_waits: 5,
            slice_days: 31,
            history_start: chrono::NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or(chrono::NaiveDate::MIN),
        }
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self::from_config(&Config::defaults())
    }
}

/// One invocation's request.
#[derive(Debug, Clone)]
pub struct SyncJob {
    pub org: OrgId,
    pub connection: ConnectionId,
    /// Unique per invocation (e.g. the Lambda request id): two invocations with the same holder
    /// would share the lease.
    pub holder: String,
    /// Absolute deadline, epoch ms (Lambda: now + remaining time).
    pub deadline_ms: i64,
    /// Start a full reconciliation cycle now (when no cycle is in progress).
    pub force_full: bool,
    pub settings: SyncSettings,
}

/// Infrastructure failures (the ledger store). Progress up to the last checkpoint is kept; the
/// lease is released if the store still answers, else it expires.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("concurrent modification: {0}")]
    Conflict(String),
}

enum Stop {
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

enum Doc {
    Product(SourceProduct),
    Customer(SourceCustomer),
    Invoice(SourceInvoice),
    CreditNote(SourceCreditNote),
}

impl Doc {
    fn id(&self) -> &str {
        match self {
            Doc::Product(p) => &p.id,
            Doc::Customer(c) => &c.id,
            Doc::Invoice(i) => &i.id,
            Doc::CreditNote(c) => &c.id,
        }
    }
    /// The listing's sort key (creation time); credit notes have none.
    fn created_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Doc::Product(p) => p.created_at,
            Doc::Customer(c) => c.created_at,
            Doc::Invoice(i) => i.created_at,
            Doc::CreditNote(_) => None,
        }
    }
}

fn docs<T>(p: SourcePage<T>, f: fn(T) -> Doc) -> SourcePage<Doc> {
    SourcePage { items: p.items.into_iter().map(f).collect(), next: p.next }
}

/// A cursor item as read, with the expectation its next write must carry.
struct Slot<T> {
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

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Capped exponential backoff with equal jitter, for a 429 without `Retry-After`.
fn backoff(attempt: u32) -> Duration {
    let base_ms = 1_000u64.saturating_mul(1 << attempt.min(5)).min(30_000);
    let r = crate::crypto::random_bytes(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(&r);
    Duration::from_millis(base_ms / 2 + u64::from_le_bytes(b) % (base_ms / 2 + 1))
}

struct Runner<'a, S, Q> {
    store: &'a S,
    source: &'a Q,
    clock: &'a dyn Clock,
    job: &'a SyncJob,
    ledger: Ledger<'a, S>,
    guard: LeaseGuard,
    run: Slot<RunCursor>,
    summary: RunSummary,
    /// A full cycle after the first one: creations/updates are drift repairs.
    repairing: bool,
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
    fn margin_ms(&self) -> i64 {
        ms(self.job.settings.safety_margin)
    }

    fn out_of_time(&self) -> bool {
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
        loop {
            let page = match self.fetch_page(stream, pass, token.as_ref()).await {
                Ok(p) => p,
                Err(s) => return Err((s, tracker.checkpoint(cap))),
            };
            for doc in page.items {
                let key = doc.created_at();
                seen.insert(doc.id().to_owned());
                if tracker.skip(key) || !dedup.insert(doc.id().to_owned()) {
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

    /// Deadline and lease upkeep before every source call.
    async fn before_call(&mut self) -> Result<(), Stop> {
        if self.out_of_time() {
            return Err(Stop::Deadline);
        }
        let now = self.clock.now_ms();
        let lease_ms = ms(self.job.settings.lease);
        if self.guard.expires_at_ms.saturating_sub(now) < lease_ms / 2 {
            match lease::renew(self.store, &mut self.guard, now, lease_ms).await {
                Ok(()) => {}
                Err(e) if e.is_condition_failed() => return Err(Stop::LeaseLost),
                Err(e) => return Err(Stop::Store(e)),
            }
        }
        self.summary.requests += 1;
        Ok(())
    }

    /// Throttling: wait `retry_after` (or a jittered backoff) only if the wait ends before the
    /// deadline minus the margin; otherwise stop with `MoreWork`. Anything else stops the run.
    async fn on_error(&mut self, e: SourceError, attempts: &mut u32) -> Result<(), Stop> {
        match e {
            SourceError::Throttled { retry_after } => {
                self.summary.throttled += 1;
                let wait = retry_after.unwrap_or_else(|| backoff(*attempts));
                *attempts += 1;
                let wake = self.clock.now_ms().saturating_add(ms(wait));
                if *attempts > self.job.settings.max_throttle_waits
                    || wake > self.job.deadline_ms.saturating_sub(self.margin_ms())
                {
                    return Err(Stop::Throttled(Some(wait)));
                }
                self.clock.sleep(wait).await;
                self.summary.slept_ms += u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                Ok(())
            }
            SourceError::OutOfTime => Err(Stop::Deadline),
            other => Err(Stop::Source(other)),
        }
    }

    async fn fetch_page(
        &mut self,
        stream: Stream,
        pass: &PassSpec,
        token: Option<&PageToken>,
    ) -> Result<SourcePage<Doc>, Stop> {
        let mut attempts = 0;
        loop {
            self.before_call().await?;
            let src = self.source;
            let res = match stream {
                Stream::Products => src.list_products(token).await.map(|p| docs(p, Doc::Product)),
                Stream::Customers => src.list_customers(token).await.map(|p| docs(p, Doc::Customer)),
                Stream::Invoices => {
                    let q = InvoiceQuery {
                        status: pass.status.as_deref().map(InvoiceStatus::parse),
                        invoice_after: pass.after,
                        invoice_before: pass.before,
                    };
                    src.list_invoices(&q, token).await.map(|p| docs(p, Doc::Invoice))
                }
                Stream::CreditNotes => {
                    let q = CreditNoteQuery {
                        status: pass.status.as_deref().map(CreditNoteStatus::parse),
                        sent_after: pass.after,
                        sent_before: pass.before,
                    };
                    src.list_credit_notes(&q, token).await.map(|p| docs(p, Doc::CreditNote))
                }
            };
            match res {
                Ok(p) => return Ok(p),
                Err(e) => self.on_error(e, &mut attempts).await?,
            }
        }
    }

    async fn fetch_lines(&mut self, kind: DocKind, id: &str) -> Result<Vec<SourceLine>, Stop> {
        let mut out = Vec::new();
        let mut token: Option<PageToken> = None;
        loop {
            let mut attempts = 0;
            let page = loop {
                self.before_call().await?;
                self.summary.line_item_requests += 1;
                let res = match kind {
                    DocKind::Invoice => self.source.invoice_line_items(id, token.as_ref()).await,
                    DocKind::Credit => self.source.credit_note_line_items(id, token.as_ref()).await,
                };
                match res {
                    Ok(p) => break p,
                    Err(e) => self.on_error(e, &mut attempts).await?,
                }
            };
            out.extend(page.items);
            match page.next {
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    fn count(&mut self, r: Upsert) {
        match r {
            Upsert::Created => self.summary.created += 1,
            Upsert::Updated { .. } => self.summary.updated += 1,
            Upsert::Unchanged | Upsert::Stale => self.summary.unchanged += 1,
            Upsert::Touched => self.summary.touched += 1,
        }
        if self.repairing && matches!(r, Upsert::Created | Upsert::Updated { .. }) {
            self.summary.repaired += 1;
        }
    }

    async fn quarantine<T: Serialize>(&mut self, kind: &str, id: &str, reason: String, doc: &T) -> Result<(), Stop> {
        self.summary.quarantined += 1;
        tracing::warn!(kind, id, reason = %reason, "document quarantined");
        let rec = QuarantineRecord {
            kind: kind.to_owned(),
            source_id: id.to_owned(),
            reason,
            content_hash: map::hash_of(doc),
            document: serde_json::to_value(doc).unwrap_or(serde_json::Value::Null),
            recorded_at_ms: self.clock.now_ms(),
        };
        self.ledger.quarantine(&self.guard, rec).await?;
        Ok(())
    }

    /// Already quarantined with this exact header? Then skip (no line-item request).
    async fn still_quarantined(&mut self, kind: &str, id: &str, header_hash: &str) -> Result<bool, Stop> {
        match self.ledger.quarantined(kind, id).await? {
            Some(q) if q.content_hash == header_hash => {
                self.summary.quarantined += 1;
                Ok(true)
            }
            Some(_) => {
                // The document changed; whatever it maps to now replaces the old quarantine entry.
                self.ledger.clear_quarantine(&self.guard, kind, id).await?;
                Ok(false)
            }
            None => Ok(false),
        }
    }

    async fn process(&mut self, doc: Doc) -> Result<(), Stop> {
        self.summary.seen += 1;
        match doc {
            Doc::Product(p) => {
                let r = self.ledger.upsert_product(&self.guard, map::product_record(&p)).await?;
                self.count(r);
            }
            Doc::Customer(c) => match map::customer_record(&c) {
                Mapped::Import(rec) => {
                    let r = self.ledger.upsert_customer(&self.guard, rec).await?;
                    self.count(r);
                }
                Mapped::NotImported => self.summary.not_imported += 1,
                Mapped::Quarantine(reason) => self.quarantine("customer", &c.id, reason, &c).await?,
            },
            Doc::Invoice(inv) => self.process_invoice(inv).await?,
            Doc::CreditNote(cn) => self.process_credit_note(cn).await?,
        }
        Ok(())
    }

    async fn process_invoice(&mut self, inv: SourceInvoice) -> Result<(), Stop> {
        match map::invoice_disposition(&inv.status) {
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                return Ok(());
            }
            Mapped::Quarantine(reason) => return self.quarantine("invoice", &inv.id, reason, &inv).await,
            Mapped::Import(_) => {}
        }
        let header_hash = map::hash_of(&inv);
        if let Some(h) = self.ledger.head(DocKind::Invoice, &inv.id).await? {
            let stored = h.value.txn.source_updated_at;
            // Same `updatedAt` and header: unchanged, and no line-item request.
            if (stored == Some(inv.updated_at) && h.value.txn.header_hash == header_hash)
                || stored.is_some_and(|s| s > inv.updated_at)
            {
                self.summary.unchanged += 1;
                return Ok(());
            }
        }
        if self.still_quarantined("invoice", &inv.id, &header_hash).await? {
            return Ok(());
        }
        let lines = self.fetch_lines(DocKind::Invoice, &inv.id).await?;
        let fallback = match inv.customer_tax_status {
            Some(_) => None,
            None => self.ledger.customer(&inv.customer_id).await?.map(|c| c.tax_status),
        };
        match map::invoice_txn(&inv, &lines, fallback) {
            Mapped::Import(t) => {
                let r = self.ledger.upsert_transaction(&self.guard, t, self.clock.now_ms()).await?;
                self.count(r);
            }
            Mapped::NotImported => self.summary.not_imported += 1,
            Mapped::Quarantine(reason) => self.quarantine("invoice", &inv.id, reason, &inv).await?,
        }
        Ok(())
    }

    async fn process_credit_note(&mut self, cn: SourceCreditNote) -> Result<(), Stop> {
        match map::credit_note_disposition(&cn.status) {
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                return Ok(());
            }
            Mapped::Quarantine(reason) => return self.quarantine("credit", &cn.id, reason, &cn).await,
            Mapped::Import(_) => {}
        }
        let header_hash = map::hash_of(&cn);
        let head = self.ledger.head(DocKind::Credit, &cn.id).await?;
        // No `updatedAt` on credit notes: an unchanged header skips the line-item request, except in
        // a full reconciliation cycle, which re-reads the lines too.
        if !self.summary.full_reconciliation && head.as_ref().is_some_and(|h| h.value.txn.header_hash == header_hash) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        if self.still_quarantined("credit", &cn.id, &header_hash).await? {
            return Ok(());
        }
        let lines = self.fetch_lines(DocKind::Credit, &cn.id).await?;
        if head.as_ref().is_some_and(|h| h.value.txn.content_hash == map::content_hash(&cn, &lines)) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        let tax = self.credit_note_tax_status(&cn).await?;
        match map::credit_note_txn(&cn, &lines, tax) {
            Mapped::Import(t) => {
                let r = self.ledger.upsert_transaction(&self.guard, t, self.clock.now_ms()).await?;
                self.count(r);
            }
            Mapped::NotImported => self.summary.not_imported += 1,
            Mapped::Quarantine(reason) => self.quarantine("credit", &cn.id, reason, &cn).await?,
        }
        Ok(())
    }

    /// The linked invoice's tax status, else the customer's, else Sequence's default (TAXED).
    async fn credit_note_tax_status(&mut self, cn: &SourceCreditNote) -> Result<ResolvedTaxStatus, Stop> {
        if let Some(inv) = &cn.invoice_id
            && let Some(h) = self.ledger.head(DocKind::Invoice, inv).await?
        {
            return Ok(ResolvedTaxStatus { status: h.value.txn.customer.tax_status, inferred: true });
        }
        let status = self.ledger.customer(&cn.customer_id).await?.map_or(CustomerTaxStatus::Taxed, |c| c.tax_status);
        Ok(ResolvedTaxStatus { status, inferred: true })
    }
}
