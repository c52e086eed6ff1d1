//! An in-memory [`SequenceSource`] for tests, with the faults the sync must survive: fail the k-th
//! call, throttle with `retry_after`, mutate documents between pages, pause a call (to let a lease
//! expire under a running sync), and many documents with identical timestamps.
//!
//! Listings behave like Sequence's: filtered by status and date, ordered by creation time ascending,
//! paginated by an opaque keyset token (creation time + insertion sequence of the last item), so a
//! document changed between pages is served by its current state.

use chrono::{DateTime, Utc};
use shared::sync::source::{
    CreditNoteQuery, FetchResult, InvoiceQuery, PageToken, Rejected, SequenceSource, SourceCreditNote, SourceCustomer,
    SourceError, SourceInvoice, SourceLine, SourcePage, SourceProduct, SourceResult,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Which endpoint a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallKind {
    Products,
    Customers,
    Invoices,
    InvoiceLines,
    CreditNotes,
    CreditNoteLines,
    /// `GET /{resource}/{id}` (quarantine retries).
    Document,
}

/// The fake's documents. Each listed document has a creation sequence number; listings order by
/// `(created_at, seq)` (credit notes, which have no `createdAt`, by `seq`).
#[derive(Debug, Default)]
pub struct FakeData {
    pub products: Vec<(u64, SourceProduct)>,
    pub customers: Vec<(u64, SourceCustomer)>,
    pub invoices: Vec<(u64, SourceInvoice)>,
    pub credit_notes: Vec<(u64, SourceCreditNote)>,
    pub invoice_lines: HashMap<String, Vec<SourceLine>>,
    pub credit_note_lines: HashMap<String, Vec<SourceLine>>,
    /// Documents served as undecodable (id → reason), in listings and by id.
    pub undecodable: HashMap<String, String>,
    /// Documents whose line items answer 404.
    pub lines_missing: std::collections::HashSet<String>,
    next_seq: u64,
}

impl FakeData {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Adds or replaces (keeping its creation position) a product.
    pub fn put_product(&mut self, p: SourceProduct) {
        match self.products.iter_mut().find(|(_, x)| x.id == p.id) {
            Some(slot) => slot.1 = p,
            None => {
                let s = self.seq();
                self.products.push((s, p));
            }
        }
    }

    pub fn put_customer(&mut self, c: SourceCustomer) {
        match self.customers.iter_mut().find(|(_, x)| x.id == c.id) {
            Some(slot) => slot.1 = c,
            None => {
                let s = self.seq();
                self.customers.push((s, c));
            }
        }
    }

    pub fn put_invoice(&mut self, inv: SourceInvoice, lines: Vec<SourceLine>) {
        self.invoice_lines.insert(inv.id.clone(), lines);
        match self.invoices.iter_mut().find(|(_, x)| x.id == inv.id) {
            Some(slot) => slot.1 = inv,
            None => {
                let s = self.seq();
                self.invoices.push((s, inv));
            }
        }
    }

    pub fn put_credit_note(&mut self, cn: SourceCreditNote, lines: Vec<SourceLine>) {
        self.credit_note_lines.insert(cn.id.clone(), lines);
        match self.credit_notes.iter_mut().find(|(_, x)| x.id == cn.id) {
            Some(slot) => slot.1 = cn,
            None => {
                let s = self.seq();
                self.credit_notes.push((s, cn));
            }
        }
    }

    /// Adds many new documents at once (no search for an existing id: bulk seeding).
    pub fn extend_new(
        &mut self,
        invoices: Vec<(SourceInvoice, Vec<SourceLine>)>,
        credit_notes: Vec<(SourceCreditNote, Vec<SourceLine>)>,
    ) {
        for (inv, lines) in invoices {
            self.invoice_lines.insert(inv.id.clone(), lines);
            let s = self.seq();
            self.invoices.push((s, inv));
        }
        for (cn, lines) in credit_notes {
            self.credit_note_lines.insert(cn.id.clone(), lines);
            let s = self.seq();
            self.credit_notes.push((s, cn));
        }
    }

    pub fn invoice_mut(&mut self, id: &str) -> Option<&mut SourceInvoice> {
        self.invoices.iter_mut().find(|(_, x)| x.id == id).map(|(_, x)| x)
    }

    pub fn credit_note_mut(&mut self, id: &str) -> Option<&mut SourceCreditNote> {
        self.credit_notes.iter_mut().find(|(_, x)| x.id == id).map(|(_, x)| x)
    }

    /// Serves the document `id` as one that does not decode (or, with `None`, as it is again).
    pub fn set_undecodable(&mut self, id: &str, reason: Option<&str>) {
        match reason {
            Some(r) => self.undecodable.insert(id.to_owned(), r.to_owned()),
            None => self.undecodable.remove(id),
        };
    }
}

type Hook = Box<dyn FnOnce(&mut FakeData) + Send>;

struct Pause {
    at_call: Option<u64>,
    at_kind: Option<(CallKind, u64)>,
    reached: oneshot::Sender<()>,
    resume: oneshot::Receiver<()>,
}

#[derive(Default)]
struct State {
    data: FakeData,
    calls: u64,
    by_kind: BTreeMap<CallKind, u64>,
    failures: BTreeMap<u64, SourceError>,
    kind_failures: BTreeMap<(CallKind, u64), SourceError>,
    throttles: u32,
    throttle_retry_after: Option<std::time::Duration>,
    throttled_calls: u64,
    hooks: BTreeMap<u64, Vec<Hook>>,
    kind_hooks: BTreeMap<(CallKind, u64), Vec<Hook>>,
    pause: Option<Pause>,
    latency: Option<(std::sync::Arc<shared::clock::FakeClock>, std::time::Duration)>,
    /// Every listing page served: `(kind, query, after)`.
    pages: Vec<(CallKind, String, Option<String>)>,
}

/// The in-memory fake. Cheap to share behind an `Arc`.
pub struct FakeSource {
    state: Mutex<State>,
    page_size: usize,
}

/// Handle of a paused call: `reached` fires when the call is waiting; send on `resume` to let it go on.
pub struct PauseHandle {
    pub reached: oneshot::Receiver<()>,
    pub resume: oneshot::Sender<()>,
}

impl Default for FakeSource {
    fn default() -> Self {
        Self::new(100)
    }
}

impl FakeSource {
    pub fn new(page_size: usize) -> Self {
        FakeSource { state: Mutex::new(State::default()), page_size: page_size.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another test thread panicked; the data is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads or changes the documents.
    pub fn with_data<R>(&self, f: impl FnOnce(&mut FakeData) -> R) -> R {
        f(&mut self.lock().data)
    }

    /// Makes call number `k` (1-based, counting every call) fail with `err`.
    pub fn fail_call(&self, k: u64, err: SourceError) {
        self.lock().failures.insert(k, err);
    }

    /// Makes the `n`-th call (1-based) of `kind` fail with `err`.
    pub fn fail_kind_call(&self, kind: CallKind, n: u64, err: SourceError) {
        self.lock().kind_failures.insert((kind, n), err);
    }

    /// Answers the next `n` calls with `Throttled { retry_after }`.
    pub fn throttle_next(&self, n: u32, retry_after: Option<std::time::Duration>) {
        let mut s = self.lock();
        s.throttles = n;
        s.throttle_retry_after = retry_after;
    }

    /// Runs `f` on the data just before call `k` is served (a document changing between pages).
    pub fn on_call(&self, k: u64, f: impl FnOnce(&mut FakeData) + Send + 'static) {
        self.lock().hooks.entry(k).or_default().push(Box::new(f));
    }

    /// Runs `f` just before the `n`-th call (1-based) of `kind` is served.
    pub fn on_kind_call(&self, kind: CallKind, n: u64, f: impl FnOnce(&mut FakeData) + Send + 'static) {
        self.lock().kind_hooks.entry((kind, n)).or_default().push(Box::new(f));
    }

    /// Holds call `k` until the returned handle's `resume` is sent (or dropped).
    pub fn pause_at(&self, k: u64) -> PauseHandle {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (resume_tx, resume_rx) = oneshot::channel();
        self.lock().pause = Some(Pause { at_call: Some(k), at_kind: None, reached: reached_tx, resume: resume_rx });
        PauseHandle { reached: reached_rx, resume: resume_tx }
    }

    /// Holds the `n`-th call of `kind` until the handle's `resume` is sent (or dropped).
    pub fn pause_at_kind(&self, kind: CallKind, n: u64) -> PauseHandle {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (resume_tx, resume_rx) = oneshot::channel();
        self.lock().pause =
            Some(Pause { at_call: None, at_kind: Some((kind, n)), reached: reached_tx, resume: resume_rx });
        PauseHandle { reached: reached_rx, resume: resume_tx }
    }

    /// Every call advances `clock` by `per_call` (simulated network time, to reach deadlines).
    pub fn set_latency(&self, clock: std::sync::Arc<shared::clock::FakeClock>, per_call: std::time::Duration) {
        self.lock().latency = Some((clock, per_call));
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    pub fn calls_of(&self, kind: CallKind) -> u64 {
        self.lock().by_kind.get(&kind).copied().unwrap_or(0)
    }

    /// Line-item calls (invoices and credit notes).
    pub fn line_item_calls(&self) -> u64 {
        self.calls_of(CallKind::InvoiceLines) + self.calls_of(CallKind::CreditNoteLines)
    }

    pub fn throttled_calls(&self) -> u64 {
        self.lock().throttled_calls
    }

    /// Every listing page served so far, as `(kind, query, after)` (line items excluded).
    pub fn pages_served(&self) -> Vec<(CallKind, String, Option<String>)> {
        self.lock().pages.clone()
    }

    pub fn reset_counts(&self) {
        let mut s = self.lock();
        s.calls = 0;
        s.by_kind.clear();
        s.throttled_calls = 0;
        s.pages.clear();
    }

    /// Counts the call, applies hooks and faults; `Err` when the call must fail.
    async fn enter(&self, kind: CallKind) -> Result<(), SourceError> {
        let pause = {
            let mut s = self.lock();
            s.calls += 1;
            let k = s.calls;
            let nth = {
                let c = s.by_kind.entry(kind).or_default();
                *c += 1;
                *c
            };
            let mut due = s.kind_hooks.remove(&(kind, nth)).unwrap_or_default();
            due.extend(s.hooks.remove(&k).unwrap_or_default());
            for h in due {
                h(&mut s.data);
            }
            if let Some((clock, d)) = &s.latency {
                clock.advance(*d);
            }
            let hit = |p: &Pause| p.at_call == Some(k) || p.at_kind == Some((kind, nth));
            if s.pause.as_ref().is_some_and(hit) { s.pause.take() } else { None }
        };
        if let Some(p) = pause {
            let _ = p.reached.send(());
            let _ = p.resume.await;
        }
        let mut s = self.lock();
        let k = s.calls;
        let nth = s.by_kind.get(&kind).copied().unwrap_or(0);
        if let Some(e) = s.failures.remove(&k).or_else(|| s.kind_failures.remove(&(kind, nth))) {
            return Err(e);
        }
        if s.throttles > 0 {
            s.throttles -= 1;
            s.throttled_calls += 1;
            return Err(SourceError::Throttled { retry_after: s.throttle_retry_after });
        }
        Ok(())
    }

    /// One page of a listing: the rows of `table` that pass `keep`, ordered by `(created, seq)`,
    /// after the token's position. Only the page's rows are cloned.
    #[allow(clippy::too_many_arguments)]
    fn page<T: Clone>(
        &self,
        kind: CallKind,
        query: String,
        after: Option<&PageToken>,
        table: fn(&FakeData) -> &Vec<(u64, T)>,
        keep: impl Fn(&T) -> bool,
        created: fn(&T) -> DateTime<Utc>,
        id: fn(&T) -> &str,
    ) -> SourceResult<T> {
        let position = after.map(parse_token).transpose()?;
        let mut s = self.lock();
        let tbl = table(&s.data);
        let mut rows: Vec<(i64, u64, usize)> = tbl
            .iter()
            .enumerate()
            .filter(|(_, (_, x))| keep(x))
            .map(|(i, (seq, x))| (created(x).timestamp_millis(), *seq, i))
            .collect();
        rows.sort_unstable();
        let start = match position {
            None => 0,
            Some(p) => rows.partition_point(|(t, s, _)| (*t, *s) <= p),
        };
        let end = (start + self.page_size).min(rows.len());
        let next =
            (end < rows.len()).then(|| rows.get(end - 1)).flatten().map(|(t, s, _)| PageToken(format!("{t}:{s}")));
        let (mut items, mut rejected) = (Vec::new(), Vec::new());
        for (_, _, i) in &rows[start..end] {
            let x = &tbl[*i].1;
            match s.data.undecodable.get(id(x)) {
                Some(reason) => rejected.push(rejection(id(x), reason)),
                None => items.push(x.clone()),
            }
        }
        s.pages.push((kind, query, after.map(|t| t.0.clone())));
        Ok(SourcePage { items, rejected, next })
    }

    fn get<T: Clone>(&self, id: &str, find: impl FnOnce(&FakeData) -> Option<T>) -> FetchResult<T> {
        let s = self.lock();
        if let Some(reason) = s.data.undecodable.get(id) {
            return Ok(Err(rejection(id, reason)));
        }
        find(&s.data).map(Ok).ok_or(SourceError::NotFound)
    }

    fn lines(&self, doc: &str, lines: Option<Vec<SourceLine>>, after: Option<&PageToken>) -> SourceResult<SourceLine> {
        if self.lock().data.lines_missing.contains(doc) {
            return Err(SourceError::NotFound);
        }
        let lines = lines.unwrap_or_default();
        let start = match after {
            None => 0,
            Some(t) => t.0.parse::<usize>().map_err(|_| SourceError::Client("bad page token".into()))?,
        };
        let end = (start + self.page_size).min(lines.len());
        let next = (end < lines.len()).then(|| PageToken(end.to_string()));
        Ok(SourcePage {
            items: lines.get(start..end).map(<[_]>::to_vec).unwrap_or_default(),
            rejected: Vec::new(),
            next,
        })
    }
}

fn rejection(id: &str, reason: &str) -> Rejected {
    Rejected { id: Some(id.to_owned()), reason: reason.to_owned(), hash: shared::crypto::sha256_hex(reason.as_bytes()) }
}

fn parse_token(tok: &PageToken) -> Result<(i64, u64), SourceError> {
    let bad = || SourceError::Client("bad page token".into());
    let (a, b) = tok.0.split_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// The fake's date filters: `after` exclusive, `before` inclusive (the two readings the algorithm
/// must survive); an undated document never matches a date filter.
fn dated(d: Option<chrono::NaiveDate>, after: Option<chrono::NaiveDate>, before: Option<chrono::NaiveDate>) -> bool {
    if after.is_none() && before.is_none() {
        return true;
    }
    d.is_some_and(|d| after.is_none_or(|a| d > a) && before.is_none_or(|b| d <= b))
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

impl SequenceSource for FakeSource {
    async fn list_products(&self, after: Option<&PageToken>) -> SourceResult<SourceProduct> {
        self.enter(CallKind::Products).await?;
        let created = |p: &SourceProduct| p.created_at.unwrap_or(epoch());
        self.page(CallKind::Products, String::new(), after, |d| &d.products, |_| true, created, |p| &p.id)
    }

    async fn list_customers(&self, after: Option<&PageToken>) -> SourceResult<SourceCustomer> {
        self.enter(CallKind::Customers).await?;
        let created = |c: &SourceCustomer| c.created_at.unwrap_or(epoch());
        self.page(CallKind::Customers, String::new(), after, |d| &d.customers, |_| true, created, |c| &c.id)
    }

    async fn list_invoices(&self, q: &InvoiceQuery, after: Option<&PageToken>) -> SourceResult<SourceInvoice> {
        self.enter(CallKind::Invoices).await?;
        let keep = |i: &SourceInvoice| {
            q.status.as_ref().is_none_or(|s| *s == i.status) && dated(i.issue_date, q.invoice_after, q.invoice_before)
        };
        let created = |i: &SourceInvoice| i.created_at.unwrap_or(epoch());
        self.page(CallKind::Invoices, format!("{q:?}"), after, |d| &d.invoices, keep, created, |i| &i.id)
    }

    async fn invoice_line_items(&self, invoice_id: &str, after: Option<&PageToken>) -> SourceResult<SourceLine> {
        self.enter(CallKind::InvoiceLines).await?;
        let lines = self.lock().data.invoice_lines.get(invoice_id).cloned();
        self.lines(invoice_id, lines, after)
    }

    async fn list_credit_notes(
        &self,
        q: &CreditNoteQuery,
        after: Option<&PageToken>,
    ) -> SourceResult<SourceCreditNote> {
        self.enter(CallKind::CreditNotes).await?;
        // Credit notes have no `createdAt` (listed in creation order); the fake uses the issue date
        // as "sent" date.
        let keep = |c: &SourceCreditNote| {
            q.status.as_ref().is_none_or(|s| *s == c.status) && dated(c.issue_date, q.sent_after, q.sent_before)
        };
        self.page(CallKind::CreditNotes, format!("{q:?}"), after, |d| &d.credit_notes, keep, |_| epoch(), |c| &c.id)
    }

    async fn credit_note_line_items(
        &self,
        credit_note_id: &str,
        after: Option<&PageToken>,
    ) -> SourceResult<SourceLine> {
        self.enter(CallKind::CreditNoteLines).await?;
        let lines = self.lock().data.credit_note_lines.get(credit_note_id).cloned();
        self.lines(credit_note_id, lines, after)
    }

    async fn get_product(&self, id: &str) -> FetchResult<SourceProduct> {
        self.enter(CallKind::Document).await?;
        self.get(id, |d| d.products.iter().find(|(_, x)| x.id == id).map(|(_, x)| x.clone()))
    }

    async fn get_customer(&self, id: &str) -> FetchResult<SourceCustomer> {
        self.enter(CallKind::Document).await?;
        self.get(id, |d| d.customers.iter().find(|(_, x)| x.id == id).map(|(_, x)| x.clone()))
    }

    async fn get_invoice(&self, id: &str) -> FetchResult<SourceInvoice> {
        self.enter(CallKind::Document).await?;
        self.get(id, |d| d.invoices.iter().find(|(_, x)| x.id == id).map(|(_, x)| x.clone()))
    }

    async fn get_credit_note(&self, id: &str) -> FetchResult<SourceCreditNote> {
        self.enter(CallKind::Document).await?;
        self.get(id, |d| d.credit_notes.iter().find(|(_, x)| x.id == id).map(|(_, x)| x.clone()))
    }
}
