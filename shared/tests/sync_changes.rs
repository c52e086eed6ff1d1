//! Source changes between and during runs: mid-run edits, voids, credit notes, idempotent reruns,
//! unchanged runs that write nothing, quarantine, lookback and reconciliation.

mod sync_common;

use sequence_sim::fake::{CallKind, FakeSource};
use shared::clock::FakeClock;
use shared::layout;
use shared::ledger::{Change, DocKind, Ledger, TxnStatus, TxnType};
use shared::store::{ItemStore, WriteOp};
use shared::sync::source::{CreditNoteStatus, InvoiceStatus};
use shared::sync::{Outcome, run};
use std::time::Duration;
use sync_common::*;

#[tokio::test]
async fn invoice_changed_while_the_run_is_on_a_later_page_is_latest_after_the_next_run() {
    let store = TestStore::new();
    let src = FakeSource::new(2);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    // Pages of 2: while the run is on page 2 (fetching inv-2's lines), inv-0 from page 1 changes.
    src.on_kind_call(CallKind::InvoiceLines, 3, |d| {
        let inv = d.invoice_mut("inv-0").unwrap();
        inv.net_total = money(99_00);
        inv.updated_at += chrono::Duration::seconds(30);
        d.invoice_lines.get_mut("inv-0").unwrap()[0].net_total = money(99_00);
    });
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let stale = ledger.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap();
    assert_eq!(stale.version, 1, "the run had passed inv-0 when it changed");
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert_eq!(r.summary.updated, 1);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
    let h = ledger.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap();
    assert_eq!((h.version, h.txn.net_total), (2, money(99_00)));
}

#[tokio::test]
async fn void_and_credit_note_after_sync_then_a_repeat_run_changes_nothing() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    assert_eq!(
        run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap().outcome,
        Outcome::Done
    );

    src.with_data(|d| {
        let inv = d.invoice_mut("inv-0").unwrap();
        inv.status = InvoiceStatus::Voided;
        inv.updated_at += chrono::Duration::seconds(60);
        d.put_credit_note(
            credit_note("cn-3", CreditNoteStatus::Sent, Some("inv-5"), day(3, 10), 1_000),
            lines_for("cn-3", 1_000, 1),
        );
    });
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert!(!r.summary.full_reconciliation);
    assert_eq!((r.summary.created, r.summary.updated), (1, 1));
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let voided = ledger.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap();
    assert_eq!(voided.version, 2);
    assert_eq!(voided.txn.status, TxnStatus::Cancelled);
    assert_eq!(voided.versions.iter().map(|v| v.change).collect::<Vec<_>>(), [Change::Created, Change::Cancelled]);
    assert_eq!(voided.txn.lines.len(), 2, "a cancellation keeps the lines; it is a version, not a delete");
    let refund = ledger.get_transaction(DocKind::Credit, "cn-3").await.unwrap().unwrap();
    assert_eq!(refund.txn.txn_type, TxnType::Refund);
    assert_eq!(refund.txn.refunded_invoice_id.as_deref(), Some("inv-5"));
    assert_ledger_matches(&store, "org1", "c1", &src).await;

    store.take_written();
    src.reset_counts();
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert_eq!((r.summary.created, r.summary.updated, r.summary.touched), (0, 0, 0));
    assert_eq!(TestStore::ledger_keys(&store.take_written()), vec![]);
    assert_eq!(src.line_item_calls(), 0);
}

#[tokio::test]
async fn two_sequential_runs_without_source_changes_write_nothing_and_fetch_no_lines() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    let first = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(first.outcome, Outcome::Done);
    assert!(first.summary.full_reconciliation, "the first cycle is a full one");
    assert_eq!(first.summary.created, 2 + 2 + 6 + 2);
    assert_eq!(first.summary.not_imported, 1);
    store.take_written();
    src.reset_counts();
    clock.advance(MIN15);
    let second = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(second.outcome, Outcome::Done);
    assert_eq!(TestStore::ledger_keys(&store.take_written()), vec![], "zero ledger writes");
    assert_eq!(src.line_item_calls(), 0, "zero line-item requests");
    assert_eq!(second.summary.line_item_requests, 0);
    assert_eq!((second.summary.created, second.summary.updated), (0, 0));
    assert!(second.summary.unchanged > 0);
    let json = serde_json::to_value(&second.summary).unwrap();
    assert_eq!(json["outcome"], "done");
}

#[tokio::test]
async fn unknown_statuses_are_quarantined_counted_and_released_when_known() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    seed_small(&src);
    add_invoice(&src, invoice("inv-odd", InvoiceStatus::parse("PAID_OUT"), 500, day(3, 4), 1_000), 1);
    src.with_data(|d| {
        let mut c = customer("cust-odd", 9);
        c.tax_status = shared::sync::source::TaxStatus::parse("PARTIAL");
        d.put_customer(c);
    });
    let clock = FakeClock::at(t0());
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.summary.quarantined, 2);
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let q = ledger.list_quarantine().await.unwrap();
    assert_eq!(q.len(), 2);
    assert!(q.iter().any(|r| r.source_id == "inv-odd" && r.reason.contains("PAID_OUT")));
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-odd").await.unwrap().is_none());
    // a full cycle again: still quarantined, nothing rewritten
    store.take_written();
    clock.advance(MIN15);
    let mut j = job("org1", "c1", &clock, MIN15);
    j.force_full = true;
    let r = run(&store, &src, clock.as_ref(), &j).await.unwrap();
    assert_eq!(r.summary.quarantined, 2);
    assert_eq!(TestStore::ledger_keys(&store.take_written()), vec![]);
    // the document becomes known: imported, quarantine entry cleared
    src.with_data(|d| {
        let inv = d.invoice_mut("inv-odd").unwrap();
        inv.status = InvoiceStatus::Final;
        inv.updated_at += chrono::Duration::seconds(1);
    });
    clock.advance(MIN15);
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-odd").await.unwrap().is_some());
    assert_eq!(ledger.list_quarantine().await.unwrap().len(), 1);
}

#[tokio::test]
async fn old_voids_wait_for_reconciliation_which_also_repairs_and_reports_drift() {
    let store = TestStore::new();
    let src = FakeSource::new(5);
    seed_small(&src);
    // issued 100 days before t0: outside the 45-day lookback
    add_invoice(&src, invoice("inv-old", InvoiceStatus::Sent, 50, day(1, 1), 5_000), 1);
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    src.with_data(|d| {
        let inv = d.invoice_mut("inv-old").unwrap();
        inv.status = InvoiceStatus::Voided;
        inv.updated_at += chrono::Duration::seconds(1);
    });
    clock.advance(MIN15);
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let h = ledger.get_transaction(DocKind::Invoice, "inv-old").await.unwrap().unwrap();
    assert_eq!(h.txn.status, TxnStatus::Active, "outside the lookback window: not seen incrementally");

    // drift: one ledger entry lost, one document gone from Sequence
    store
        .write(vec![WriteOp::Delete {
            key: layout::txn_key(&org("org1"), &conn("c1"), DocKind::Invoice, "inv-1"),
            expect: shared::store::Expect::Any,
        }])
        .await
        .unwrap();
    src.with_data(|d| d.invoices.retain(|(_, i)| i.id != "inv-6"));

    clock.advance(Duration::from_secs(8 * 86_400));
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert!(r.summary.full_reconciliation);
    assert_eq!(r.summary.repaired, 2, "inv-1 recreated, inv-old voided");
    assert_eq!(r.summary.missing_in_source, 1, "inv-6 reported");
    let h = ledger.get_transaction(DocKind::Invoice, "inv-old").await.unwrap().unwrap();
    assert_eq!(h.txn.status, TxnStatus::Cancelled);
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-1").await.unwrap().is_some());
}

#[tokio::test]
async fn same_content_under_a_new_updated_at_is_recorded_without_a_new_version() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    // Sequence touched something we do not import (e.g. payment status): updatedAt moves only.
    src.with_data(|d| d.invoice_mut("inv-1").unwrap().updated_at += chrono::Duration::seconds(9));
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!((r.summary.touched, r.summary.updated, r.summary.line_item_requests), (1, 0, 1));
    src.reset_counts();
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!((r.summary.touched, r.summary.line_item_requests), (0, 0), "recorded: no refetch next time");
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    assert_eq!(ledger.get_transaction(DocKind::Invoice, "inv-1").await.unwrap().unwrap().version, 1);
}

#[tokio::test]
async fn reconciliation_spread_over_several_invocations_still_reports_drift() {
    let store = TestStore::new();
    let src = FakeSource::new(2);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    src.with_data(|d| d.invoices.retain(|(_, i)| i.id != "inv-6"));
    clock.advance(Duration::from_secs(8 * 86_400));
    src.set_latency(clock.clone(), Duration::from_millis(250));
    let margin = shared::sync::SyncSettings::default().safety_margin;
    let make = || {
        let mut j = job("org1", "c1", &clock, margin + Duration::from_secs(3));
        j.settings.history_start = day(1, 1);
        j.settings.slice_days = 2;
        j
    };
    let reports = run_jobs_until_settled(&store, &src, &clock, make).await;
    assert!(reports.len() >= 3, "the full cycle took {} invocations", reports.len());
    assert!(reports.iter().all(|r| r.summary.full_reconciliation));
    assert_eq!(reports.iter().map(|r| r.summary.missing_in_source).sum::<u64>(), 1);
    assert_eq!(reports.iter().map(|r| r.summary.repaired).sum::<u64>(), 0, "nothing else drifted");
}

#[tokio::test]
async fn credit_notes_without_updated_at_are_hash_compared_and_line_drift_is_repaired_by_reconciliation() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    // a header change (no timestamp to tell us) is seen by its hash
    src.with_data(|d| d.credit_note_mut("cn-2").unwrap().status = CreditNoteStatus::Voided);
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!((r.summary.updated, r.summary.line_item_requests), (1, 1));
    let cn = ledger.get_transaction(DocKind::Credit, "cn-2").await.unwrap().unwrap();
    assert_eq!((cn.version, cn.txn.status), (2, TxnStatus::Cancelled));
    // a line-only change is invisible to the header hash until the weekly full pass re-reads lines
    src.with_data(|d| d.credit_note_lines.get_mut("cn-1").unwrap()[0].title = "corrected".into());
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.summary.updated, 0);
    clock.advance(Duration::from_secs(7 * 86_400));
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert!(r.summary.full_reconciliation);
    assert_eq!((r.summary.updated, r.summary.repaired), (1, 1));
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}
