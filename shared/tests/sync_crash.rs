//! Crash safety: a writer dying after any write, and equal timestamps across page boundaries.

mod sync_common;

use sequence_sim::fake::{CallKind, FakeSource};
use shared::clock::{Clock, FakeClock};
use shared::layout;
use shared::ledger::{DocKind, Ledger};
use shared::store::record;
use shared::sync::cursor::StreamCursor;
use shared::sync::source::InvoiceStatus;
use shared::sync::{Outcome, run};
use std::time::Duration;
use sync_common::*;

/// A crash after the k-th write of a clean run, for every k, then a rerun (after the source changed
/// once more): every document exactly once, at its latest version.
#[tokio::test]
async fn crash_after_every_write_then_rerun_gives_each_document_once_at_latest_version() {
    // how many writes a clean run makes
    let probe = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    let r = run(&probe, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    let total = probe.write_attempts();
    assert!(total > 15, "a clean run makes {total} writes");

    for k in 0..total {
        let store = TestStore::new();
        let src = FakeSource::new(3);
        seed_small(&src);
        let clock = FakeClock::at(t0());
        store.crash_after(k);
        let crashed = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await;
        match crashed {
            Err(_) => {}
            // the last write is the lease release: its failure is logged, the lease just expires
            Ok(r) => assert!(k == total - 1 && r.outcome == Outcome::Done, "k={k}: the injected crash must surface"),
        }
        store.heal();
        // the source moves on while we are down; the dead holder's lease expires
        src.with_data(|d| {
            let inv = d.invoice_mut("inv-2").unwrap();
            inv.status = InvoiceStatus::Voided;
            inv.updated_at += chrono::Duration::seconds(5);
        });
        clock.advance(Duration::from_secs(121));
        let reports = run_until_settled(&store, &src, &clock, "org1", "c1", MIN15).await;
        assert_eq!(reports.last().unwrap().outcome, Outcome::Done, "k={k}");
        // A change made after its stream completed in the crashed invocation belongs to the next
        // cycle: one more scheduled run.
        clock.advance(MIN15);
        let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
        assert_eq!(r.outcome, Outcome::Done, "k={k}");
        assert_ledger_matches(&store, "org1", "c1", &src).await;
        // exactly once: no document has a spurious second version
        let ledger = Ledger::new(&store, org("org1"), conn("c1"));
        for (id, _, _) in ledger.list_hashes(DocKind::Invoice).await.unwrap() {
            let h = ledger.get_transaction(DocKind::Invoice, &id).await.unwrap().unwrap();
            let max = if id == "inv-2" { 2 } else { 1 };
            assert!(h.versions.len() <= max, "k={k}: {id} has {} versions", h.versions.len());
        }
    }
}

fn seed_equal(src: &FakeSource, n: usize, group: usize) {
    src.with_data(|d| d.put_customer(customer("cust-1", 1)));
    for i in 0..n {
        let created = 1_000 + i64::try_from(i / group).unwrap();
        add_invoice(src, invoice(&format!("inv-{i:03}"), InvoiceStatus::Final, created, day(3, 2), 1_000), 1);
    }
}

/// The clock jumps past the deadline while the 100th document (the last of page 1) is fetched.
fn deadline_after_first_page(src: &FakeSource, clock: &std::sync::Arc<FakeClock>) -> Duration {
    let c = clock.clone();
    src.on_kind_call(CallKind::InvoiceLines, 100, move |_| c.advance(Duration::from_secs(3_600)));
    Duration::from_secs(600)
}

/// 250 invoices with one timestamp over three pages; the writer crashes right after the first page.
#[tokio::test]
async fn equal_timestamps_across_pages_with_a_crash_after_the_first_page() {
    let store = TestStore::new();
    let src = FakeSource::new(100);
    seed_equal(&src, 250, 250);
    let clock = FakeClock::at(t0());
    // lease + counters marker (first run) + products cursor + customer + customers cursor + 100 invoices
    store.crash_after(1 + 1 + 1 + 1 + 1 + 100);
    assert!(run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.is_err());
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    assert_eq!(ledger.list_hashes(DocKind::Invoice).await.unwrap().len(), 100, "exactly the first page landed");
    store.heal();
    clock.advance(Duration::from_secs(121));
    let reports = run_until_settled(&store, &src, &clock, "org1", "c1", MIN15).await;
    assert_eq!(reports.last().unwrap().outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
    assert_eq!(ledger.list_hashes(DocKind::Invoice).await.unwrap().len(), 250);
}

/// Same with a deadline instead of a crash: the checkpoint may not fall inside the tie group, so
/// the resumed pass starts over (hash-skipping the first page) and still gets all 250.
#[tokio::test]
async fn equal_timestamps_deadline_after_first_page_checkpoints_no_keyset() {
    let store = TestStore::new();
    let src = FakeSource::new(100);
    seed_equal(&src, 250, 250);
    let clock = FakeClock::at(t0());
    let budget = deadline_after_first_page(&src, &clock);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, budget)).await.unwrap();
    assert_eq!(r.outcome, Outcome::MoreWork { retry_after_ms: None });
    assert_eq!(r.summary.created, 1 + 100, "one customer and the first page of invoices");
    let cur: StreamCursor =
        record::get(&store, &layout::cursor_key(&org("org1"), &conn("c1"), "invoices")).await.unwrap().unwrap().value;
    let resume = cur.resume.expect("checkpointed");
    assert_eq!(resume.keyset, None, "no checkpoint inside a group of equal timestamps");
    src.reset_counts();
    let reports = run_until_settled(&store, &src, &clock, "org1", "c1", MIN15).await;
    assert_eq!(reports.last().unwrap().outcome, Outcome::Done);
    assert_eq!(src.calls_of(CallKind::InvoiceLines), 150, "the first page is not refetched");
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}

/// Groups of 30 equal timestamps, pages of 100: the checkpoint is the last *closed* group, and the
/// resume re-reads that group (`>=`) and skips only what is strictly before it.
#[tokio::test]
async fn checkpoint_is_the_last_closed_tie_group() {
    let store = TestStore::new();
    let src = FakeSource::new(100);
    seed_equal(&src, 250, 30);
    let clock = FakeClock::at(t0());
    let budget = deadline_after_first_page(&src, &clock);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, budget)).await.unwrap();
    assert!(matches!(r.outcome, Outcome::MoreWork { .. }));
    let cur: StreamCursor =
        record::get(&store, &layout::cursor_key(&org("org1"), &conn("c1"), "invoices")).await.unwrap().unwrap().value;
    // docs 0..100 committed; group 3 (docs 90..119) is open, group 2 (60..89, t=1002) is closed
    assert_eq!(cur.resume.unwrap().keyset, Some(ts(1_002)));
    let before = clock.now_ms();
    let reports = run_until_settled(&store, &src, &clock, "org1", "c1", MIN15).await;
    assert!(clock.now_ms() >= before);
    assert_eq!(reports.last().unwrap().outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}

/// A deadline striking at every source call of a run (with equal timestamps straddling pages):
/// each stop checkpoints, the reruns converge, and no document gains a spurious version.
#[tokio::test]
async fn a_deadline_at_every_call_then_reruns_give_each_document_once() {
    let seed = |src: &FakeSource| {
        seed_small(src);
        for i in 0..8 {
            add_invoice(src, invoice(&format!("tie-{i}"), InvoiceStatus::Sent, 500, day(3, 3), 1_000), 1);
        }
    };
    let make = |clock: &std::sync::Arc<FakeClock>| {
        let mut j = job("org1", "c1", clock, MIN15);
        j.settings.history_start = day(2, 1);
        j.settings.slice_days = 14;
        j
    };
    let probe = FakeSource::new(3);
    seed(&probe);
    let clock = FakeClock::at(t0());
    let store = TestStore::new();
    assert_eq!(run(&store, &probe, clock.as_ref(), &make(&clock)).await.unwrap().outcome, Outcome::Done);
    let calls = probe.calls();
    assert!(calls > 20, "{calls} calls");
    for k in 1..=calls {
        let store = TestStore::new();
        let src = FakeSource::new(3);
        seed(&src);
        let clock = FakeClock::at(t0());
        let c = clock.clone();
        src.on_call(k, move |_| c.advance(Duration::from_secs(3_600)));
        let r = run(&store, &src, clock.as_ref(), &make(&clock)).await.unwrap();
        assert!(matches!(r.outcome, Outcome::MoreWork { .. } | Outcome::Done), "k={k}: {:?}", r.outcome);
        let reports = run_jobs_until_settled(&store, &src, &clock, || make(&clock)).await;
        assert_eq!(reports.last().unwrap().outcome, Outcome::Done, "k={k}");
        assert_ledger_matches(&store, "org1", "c1", &src).await;
        let ledger = Ledger::new(&store, org("org1"), conn("c1"));
        for (id, _, _) in ledger.list_hashes(DocKind::Invoice).await.unwrap() {
            let h = ledger.get_transaction(DocKind::Invoice, &id).await.unwrap().unwrap();
            assert_eq!(h.versions.len(), 1, "k={k}: {id}");
        }
    }
}
