//! THE CURSOR RULE — what a sync may persist as progress, and when (pure; no I/O).
//!
//! Sequence has no "changed since" filter: lists are ordered by creation time (`sortOrder=ASC`) and
//! filtered only by status and day-granular dates (`invoiceAfter`/`invoiceBefore` = issue date,
//! `sentAfter`/`sentBefore`), and page tokens must not outlive a run (they are never persisted).
//! So progress is two things (sync-and-security §0 rules 2–6), plus a third for ordering:
//!
//! 1. **Between runs — a date watermark per stream.** When every pass of a stream completes, the
//!    watermark becomes the date of the cycle's *start signpost* minus the safety margin — never a
//!    value seen in the data, never later than the run began. The next cycle lists from
//!    `watermark − lookback − 1 day` (the extra day because `…After` may be exclusive), so the
//!    lookback window (default 45 days) is re-read every run and late edits/voids are caught.
//!    Dated listings are cut into date slices ([`slices`]); each completed slice is a completed
//!    window, so a resumed run never re-pages more than one slice.
//! 2. **Inside a slice — a keyset on creation time, only over closed tie groups.** Records are written
//!    first; only then is a document's creation time fed to [`TieTracker`]. The checkpoint is the
//!    largest creation time whose *whole* group of equal timestamps is committed (a strictly greater
//!    one has been seen), capped at the signpost. Resuming skips only documents created strictly
//!    before it (`>=` resend of the boundary group, deduplicated by id and content hash). Documents
//!    without a creation time (credit notes), or a listing seen out of order, give no keyset: the
//!    pass restarts from its beginning, and content hashes make the replay write nothing.
//!    **After every page** the pass's position is written: the keyset above and the page token of the
//!    next page ([`ResumeToken`]). A pass resumed by the next invocation continues at that page, so
//!    no page of a pass is fetched twice — which matters for listings with no keyset at all (credit
//!    notes: a full reconciliation of 20,000 of them spans invocations). The token is the one opaque
//!    value ever persisted, and only as this short-lived resume point: it expires after
//!    `resume_token_ttl`, and a token Sequence refuses restarts the pass from the keyset.
//!
//! 3. **Within a cycle — stream order.** The run cursor holds the cycle (its signpost, whether it is a
//!    full one, the next stream); a stream's cursor is written together with it, after the stream's
//!    records, in one write fenced by the lease.
//!
//! A full reconciliation cycle (every status; invoices over all of history in slices) runs first
//! and then every `reconcile_every`; it repairs drift (re-reading credit-note lines, which have no
//! timestamp) and reports ledger entries the source no longer lists, slice by slice.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The streams of one cycle, in the order they run (customers before the documents that cite them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Products,
    Customers,
    Invoices,
    CreditNotes,
}

pub const STREAMS: [Stream; 4] = [Stream::Products, Stream::Customers, Stream::Invoices, Stream::CreditNotes];

impl Stream {
    /// Also the cursor item's sort key suffix: `CURSOR#{stream}`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Products => "products",
            Stream::Customers => "customers",
            Stream::Invoices => "invoices",
            Stream::CreditNotes => "credit_notes",
        }
    }

    /// The kind its quarantine entries are stored under (`QUARANTINE#{kind}#{id}`).
    pub const fn quarantine_kind(self) -> &'static str {
        match self {
            Stream::Products => "product",
            Stream::Customers => "customer",
            Stream::Invoices => "invoice",
            Stream::CreditNotes => "credit",
        }
    }

    /// The stream of a quarantine entry's kind.
    pub fn from_quarantine_kind(kind: &str) -> Option<Stream> {
        STREAMS.into_iter().find(|s| s.quarantine_kind() == kind)
    }
}

/// One listing of a stream: a status filter and a date slice (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassSpec {
    /// Sequence status string; `None` = every status.
    pub status: Option<String>,
    /// `invoiceAfter` / `sentAfter`.
    pub after: Option<NaiveDate>,
    /// `invoiceBefore` / `sentBefore`.
    #[serde(default)]
    pub before: Option<NaiveDate>,
}

/// Inputs of [`plan_passes`] that do not change within a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanParams {
    pub lookback_days: u32,
    /// Width of one date slice.
    pub slice_days: u32,
    /// Full passes slice from here; one catch-all slice covers everything before it.
    pub history_start: NaiveDate,
    /// The cycle's signpost date (not "now": a resumed cycle must plan the same passes).
    pub today: NaiveDate,
}

/// Where an interrupted stream resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub pass_index: usize,
    /// The pass as planned; a resume whose plan no longer matches starts the stream over.
    pub pass: PassSpec,
    /// Skip documents created strictly before this (see rule 2). `None` = from the beginning.
    pub keyset: Option<DateTime<Utc>>,
    /// Where the listing continues (the page after the last committed one); `None` = its first page.
    #[serde(default)]
    pub token: Option<ResumeToken>,
}

/// The page token of the next page of an interrupted pass (see rule 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeToken {
    pub token: String,
    pub saved_at_ms: i64,
}

impl ResumeToken {
    /// Still worth sending: saved less than `max_age_ms` ago (and not in the future).
    pub fn usable(&self, now_ms: i64, max_age_ms: i64) -> bool {
        let age = now_ms.saturating_sub(self.saved_at_ms);
        (0..max_age_ms).contains(&age)
    }
}

/// Persisted per stream (`CURSOR#{stream}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCursor {
    pub watermark: Option<NaiveDate>,
    pub resume: Option<Resume>,
    pub last_complete_ms: Option<i64>,
}

/// A cycle = one pass over all four streams, possibly spread over several invocations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// When the cycle began; no persisted value may be later than this minus the safety margin.
    pub signpost_ms: i64,
    /// Full reconciliation cycle.
    pub full: bool,
    /// Index into [`STREAMS`] of the stream to run next.
    pub stream_index: usize,
}

/// Persisted per connection (`CURSOR#run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCursor {
    pub cycle: Option<Cycle>,
    pub last_full_ms: Option<i64>,
    pub last_complete_ms: Option<i64>,
}

/// Is a full reconciliation cycle due?
pub fn needs_full(run: &RunCursor, now_ms: i64, reconcile_every_ms: i64) -> bool {
    run.last_full_ms.is_none_or(|t| now_ms.saturating_sub(t) >= reconcile_every_ms)
}

/// The capped signpost as an instant.
pub fn signpost(signpost_ms: i64, margin_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(signpost_ms.saturating_sub(margin_ms)).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Watermark written when a stream's passes all complete: the signpost's date (rule 1).
pub fn watermark_after_cycle(signpost_ms: i64, margin_ms: i64) -> NaiveDate {
    signpost(signpost_ms, margin_ms).date_naive()
}

/// Lower bound of the next incremental listing.
pub fn window_start(watermark: NaiveDate, lookback_days: u32) -> NaiveDate {
    watermark.checked_sub_days(Days::new(u64::from(lookback_days) + 1)).unwrap_or(NaiveDate::MIN)
}

/// Date slices covering `[from, ∞)` as `(after, before)` query bounds: `[from, from+n)`, …, and an
/// open-ended last slice that contains `today`. `after = start − 1 day` and `before = end` cover
/// `[start, end)` whether Sequence treats either bound as inclusive or exclusive (at worst a
/// boundary day is read twice; the content hash makes the second read a no-op).
pub fn slices(from: NaiveDate, today: NaiveDate, days: u32) -> Vec<(Option<NaiveDate>, Option<NaiveDate>)> {
    let days = Days::new(u64::from(days.max(1)));
    let mut out = Vec::new();
    let mut a = from;
    loop {
        let prev = a.checked_sub_days(Days::new(1));
        match a.checked_add_days(days) {
            Some(b) if b <= today => {
                out.push((prev, Some(b)));
                a = b;
            }
            _ => {
                out.push((prev, None));
                return out;
            }
        }
    }
}

/// The passes of a stream for one cycle, in order. Each completed pass is a completed window:
/// a resume continues at the interrupted pass, so the cost of re-paging after a stop is bounded
/// by one slice's listing (rule 2 then skips inside it).
///
/// - Products and customers: one undated listing (hash-compared) every cycle.
/// - Invoices: FINAL, SENT, VOIDED, each over date slices of `[watermark − lookback − 1 day, ∞)`
///   by issue date.
/// - Credit notes: FINAL and VOIDED undated (a note never sent has no sent date, so `sentAfter`
///   would hide it), SENT over sent-date slices of the window.
/// - A full cycle, or a stream never completed: every status; invoices sliced over all of history
///   (a catch-all slice before `history_start`, then slices up to today), credit notes undated.
///   Assumption: every importable invoice has an issue date (Sequence sets it on issue).
pub fn plan_passes(stream: Stream, full: bool, watermark: Option<NaiveDate>, p: &PlanParams) -> Vec<PassSpec> {
    let pass = |status: Option<&str>, (after, before): (Option<NaiveDate>, Option<NaiveDate>)| PassSpec {
        status: status.map(str::to_owned),
        after,
        before,
    };
    let undated = vec![pass(None, (None, None))];
    if matches!(stream, Stream::Products | Stream::Customers) {
        return undated;
    }
    if stream == Stream::CreditNotes && (full || watermark.is_none()) {
        // Sent-date slices would hide notes never sent (no sent date): one undated listing.
        return undated;
    }
    let Some(w) = watermark.filter(|_| !full) else {
        let mut all = vec![pass(None, (None, Some(p.history_start)))];
        all.extend(slices(p.history_start, p.today, p.slice_days).into_iter().map(|s| pass(None, s)));
        return all;
    };
    let window = slices(window_start(w, p.lookback_days), p.today, p.slice_days);
    let sliced = |status: &str| window.iter().map(|s| pass(Some(status), *s)).collect::<Vec<_>>();
    match stream {
        Stream::Invoices => [sliced("FINAL"), sliced("SENT"), sliced("VOIDED")].concat(),
        _ => {
            [vec![pass(Some("FINAL"), (None, None))], sliced("SENT"), vec![pass(Some("VOIDED"), (None, None))]].concat()
        }
    }
}

/// Tracks equal-timestamp groups of a listing sorted by creation time (rule 2).
#[derive(Debug, Clone)]
pub struct TieTracker {
    floor: Option<DateTime<Utc>>,
    current: Option<DateTime<Utc>>,
    closed: Option<DateTime<Utc>>,
    usable: bool,
}

impl TieTracker {
    /// A pass starting from `floor` (the resumed keyset, or `None`).
    pub fn new(floor: Option<DateTime<Utc>>) -> Self {
        TieTracker { floor, current: None, closed: None, usable: true }
    }

    /// Should a document created at `key` be skipped because an earlier invocation committed it?
    pub fn skip(&self, key: Option<DateTime<Utc>>) -> bool {
        matches!((self.floor, key), (Some(f), Some(k)) if k < f)
    }

    /// Records that the document created at `key` is committed (or needed no write).
    pub fn committed(&mut self, key: Option<DateTime<Utc>>) {
        let Some(k) = key else {
            self.usable = false;
            return;
        };
        match self.current {
            None => self.current = Some(k),
            Some(c) if k > c => {
                self.closed = Some(c);
                self.current = Some(k);
            }
            Some(c) if k == c => {}
            Some(_) => {
                if self.usable {
                    tracing::warn!("listing not sorted by creation time; no mid-stream checkpoint for this pass");
                }
                self.usable = false;
            }
        }
    }

    /// The keyset to persist if the pass stops now, capped at `cap` (the signpost).
    pub fn checkpoint(&self, cap: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.usable {
            return None;
        }
        let best = match (self.floor, self.closed) {
            (Some(f), Some(c)) => Some(f.max(c)),
            (f, c) => f.or(c),
        };
        best.map(|k| k.min(cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }
    const FAR: i64 = 10_000;

    #[test]
    fn checkpoint_never_splits_a_tie_group() {
        let mut tr = TieTracker::new(None);
        assert_eq!(tr.checkpoint(t(FAR)), None);
        for k in [1, 2, 2, 2] {
            tr.committed(Some(t(k)));
        }
        // group 2 may continue on the next page: only group 1 is closed
        assert_eq!(tr.checkpoint(t(FAR)), Some(t(1)));
        tr.committed(Some(t(3)));
        assert_eq!(tr.checkpoint(t(FAR)), Some(t(2)));
        // capped at the signpost
        assert_eq!(tr.checkpoint(t(1)), Some(t(1)));
    }

    #[test]
    fn all_equal_timestamps_give_no_checkpoint() {
        let mut tr = TieTracker::new(None);
        for _ in 0..250 {
            tr.committed(Some(t(5)));
        }
        assert_eq!(tr.checkpoint(t(FAR)), None);
    }

    #[test]
    fn resume_keeps_floor_and_skips_strictly_before() {
        let mut tr = TieTracker::new(Some(t(4)));
        assert!(tr.skip(Some(t(3))));
        assert!(!tr.skip(Some(t(4))), ">= : the boundary group is re-read");
        assert!(!tr.skip(None));
        assert_eq!(tr.checkpoint(t(FAR)), Some(t(4)));
        tr.committed(Some(t(4)));
        tr.committed(Some(t(6)));
        assert_eq!(tr.checkpoint(t(FAR)), Some(t(4)));
        tr.committed(Some(t(7)));
        assert_eq!(tr.checkpoint(t(FAR)), Some(t(6)));
    }

    #[test]
    fn unsorted_or_keyless_listings_are_not_checkpointed() {
        let mut tr = TieTracker::new(None);
        tr.committed(Some(t(5)));
        tr.committed(Some(t(6)));
        tr.committed(Some(t(4)));
        tr.committed(Some(t(9)));
        assert_eq!(tr.checkpoint(t(FAR)), None);
        let mut tr = TieTracker::new(None);
        tr.committed(None);
        tr.committed(Some(t(1)));
        tr.committed(Some(t(2)));
        assert_eq!(tr.checkpoint(t(FAR)), None);
    }

    #[test]
    fn quarantine_kinds_name_their_stream() {
        for s in STREAMS {
            assert_eq!(Stream::from_quarantine_kind(s.quarantine_kind()), Some(s));
        }
        assert_eq!(Stream::from_quarantine_kind("credit"), Some(Stream::CreditNotes));
        assert_eq!(Stream::from_quarantine_kind("credit_notes"), None);
    }

    #[test]
    fn resume_tokens_expire() {
        let t = ResumeToken { token: "x".into(), saved_at_ms: 1_000 };
        assert!(t.usable(1_000, 60_000));
        assert!(t.usable(60_999, 60_000));
        assert!(!t.usable(61_000, 60_000));
        assert!(!t.usable(999, 60_000), "a token from the future (clock skew) is not trusted");
    }

    #[test]
    fn watermark_is_the_signpost_date_and_windows_look_back() {
        // 2026-03-10T00:00:10Z with a 20 s margin → 2026-03-09
        let sp =
            NaiveDate::from_ymd_opt(2026, 3, 10).unwrap().and_hms_opt(0, 0, 10).unwrap().and_utc().timestamp_millis();
        assert_eq!(watermark_after_cycle(sp, 20_000), NaiveDate::from_ymd_opt(2026, 3, 9).unwrap());
        let w = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(window_start(w, 45), NaiveDate::from_ymd_opt(2026, 1, 23).unwrap());
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn slices_cover_the_range_under_any_inclusivity() {
        let s = slices(d(1, 1), d(3, 10), 31);
        assert_eq!(
            s,
            vec![
                (Some(d(12, 31).with_year(2025).unwrap()), Some(d(2, 1))),
                (Some(d(1, 31)), Some(d(3, 4))),
                (Some(d(3, 3)), None)
            ]
        );
        // every day from the start is inside some slice even with `after` inclusive-exclusive and `before` exclusive
        let mut day = d(1, 1);
        while day <= d(4, 30) {
            assert!(s.iter().any(|(a, b)| a.is_none_or(|a| day > a) && b.is_none_or(|b| day < b)), "{day}");
            day = day.succ_opt().unwrap();
        }
        assert_eq!(slices(d(3, 9), d(3, 10), 31), vec![(Some(d(3, 8)), None)]);
    }

    #[test]
    fn plans() {
        let p = PlanParams { lookback_days: 45, slice_days: 31, history_start: d(1, 1), today: d(3, 10) };
        let w = Some(d(3, 10));
        let full = plan_passes(Stream::Invoices, true, w, &p);
        assert_eq!(full[0], PassSpec { status: None, after: None, before: Some(d(1, 1)) });
        assert_eq!(full.len(), 1 + 3);
        assert!(full.iter().all(|x| x.status.is_none()));
        assert_eq!(plan_passes(Stream::Invoices, false, None, &p), full, "never completed → full");
        let inc = plan_passes(Stream::Invoices, false, w, &p);
        assert_eq!(inc.len(), 3 * 2, "three statuses over a 46-day window in two slices");
        assert!(inc.iter().all(|x| x.after.is_some()));
        let c = plan_passes(Stream::CreditNotes, false, w, &p);
        assert_eq!(c.iter().filter(|x| x.after.is_some()).count(), 2);
        assert_eq!(c.len(), 4);
        assert_eq!(plan_passes(Stream::Customers, true, w, &p).len(), 1);
        assert_eq!(
            plan_passes(Stream::CreditNotes, true, w, &p),
            vec![PassSpec { status: None, after: None, before: None }]
        );
        let run = RunCursor { last_full_ms: Some(0), ..Default::default() };
        assert!(!needs_full(&run, 10, 100));
        assert!(needs_full(&run, 100, 100));
        assert!(needs_full(&RunCursor::default(), 0, 100));
    }

    proptest::proptest! {
        /// Whatever prefix of a sorted listing was committed when the run stopped, resuming from the
        /// checkpoint skips only committed documents, and never moves backwards from a resumed floor.
        #[test]
        fn a_checkpoint_never_skips_an_uncommitted_document(
            mut keys in proptest::collection::vec(0i64..15, 0..80),
            cut in proptest::sample::select((0usize..=100).collect::<Vec<_>>()),
            cap in 0i64..20,
        ) {
            keys.sort_unstable();
            let committed = cut * keys.len() / 100;
            let mut tr = TieTracker::new(None);
            for k in &keys[..committed] {
                tr.committed(Some(t(*k)));
            }
            let cp = tr.checkpoint(t(cap));
            let resumed = TieTracker::new(cp);
            for (j, k) in keys.iter().enumerate() {
                if resumed.skip(Some(t(*k))) {
                    proptest::prop_assert!(j < committed, "skipped uncommitted doc {j} (key {k}, checkpoint {cp:?})");
                }
            }
            proptest::prop_assert!(cp.is_none_or(|c| c <= t(cap)));
            // a second stop right away keeps the floor
            proptest::prop_assert_eq!(resumed.checkpoint(t(1_000)), cp);
        }
    }
}
