//! One bad document never stops a connection: undecodable items and missing line items are
//! quarantined (stream, id, reason free of document values), the rest of the page is imported, and
//! the entries leave the quarantine when the documents import — found again by a listing, or
//! re-fetched by id when the listings no longer show them.

mod sync_common;

use sequence_sim::fake::{CallKind, FakeSource};
use shared::clock::FakeClock;
use shared::ledger::{DocKind, Ledger};
use shared::sync::source::{CreditNoteStatus, InvoiceStatus};
use shared::sync::{Outcome, run};
use std::time::Duration;
use sync_common::*;

/// A page of ten invoices where three do not decode: seven imported, three listed with reasons.
#[tokio::test]
async fn a_page_with_three_undecodable_items_imports_the_rest_and_lists_the_three() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    src.with_data(|d| d.put_customer(customer("cust-1", 1)));
    for i in 0..10 {
        add_invoice(&src, invoice(&format!("inv-{i}"), InvoiceStatus::Sent, 100 + i, day(3, 1), 1_000), 2);
    }
    let bad = ["inv-2", "inv-5", "inv-9"];
    src.with_data(|d| {
        for id in bad {
            d.set_undecodable(id, Some("customProperties: invalid type: map, expected a sequence"));
        }
    });
    let clock = FakeClock::at(t0());
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done, "{:?}", r.summary);
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    for i in 0..10 {
        let id = format!("inv-{i}");
        let imported = ledger.get_transaction(DocKind::Invoice, &id).await.unwrap().is_some();
        assert_eq!(imported, !bad.contains(&id.as_str()), "{id}");
    }
    let mut q = ledger.list_quarantine().await.unwrap();
    q.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    assert_eq!(q.iter().map(|e| e.source_id.as_str()).collect::<Vec<_>>(), bad);
    for e in &q {
        assert_eq!(e.kind, "invoice");
        assert_eq!(e.reason, "customProperties: invalid type: map, expected a sequence");
        assert_eq!(e.document, serde_json::Value::Null, "an undecodable document is not stored");
    }

    // the next run sees the same three: nothing rewritten
    store.take_written();
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert!(TestStore::ledger_keys(&store.take_written()).is_empty());

    // Sequence fixes two of them: they import and leave the quarantine
    src.with_data(|d| {
        d.set_undecodable("inv-2", None);
        d.set_undecodable("inv-9", None);
    });
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.summary.released, 2);
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-9").await.unwrap().is_some());
    let q = ledger.list_quarantine().await.unwrap();
    assert_eq!(q.iter().map(|e| e.source_id.as_str()).collect::<Vec<_>>(), ["inv-5"]);
}

/// A quarantined invoice older than the lookback window is no longer listed by incremental runs: it
/// is re-fetched by id and leaves the quarantine when it decodes; one Sequence deleted is released.
#[tokio::test]
async fn quarantined_documents_outside_the_listings_are_retried_by_id() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    src.with_data(|d| d.put_customer(customer("cust-1", 1)));
    // issued 100 days before t0, outside the 45-day lookback of incremental runs
    add_invoice(&src, invoice("inv-old", InvoiceStatus::Sent, 10, day(1, 1), 5_000), 1);
    add_invoice(&src, invoice("inv-gone", InvoiceStatus::Sent, 11, day(1, 2), 5_000), 1);
    src.with_data(|d| {
        d.set_undecodable("inv-old", Some("linkedServices[0]: missing field `externalId`"));
        d.set_undecodable("inv-gone", Some("netTotal: invalid type: floating point `…`, expected a string"));
    });
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    assert_eq!(ledger.list_quarantine().await.unwrap().len(), 2);

    src.with_data(|d| {
        d.set_undecodable("inv-old", None);
        d.set_undecodable("inv-gone", None);
        d.invoices.retain(|(_, i)| i.id != "inv-gone");
    });
    // within the hour after their last attempt nothing is re-fetched
    src.reset_counts();
    clock.advance(MIN15);
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(src.calls_of(CallKind::Document), 0);
    src.reset_counts();
    clock.advance(Duration::from_secs(3_600));
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert!(!r.summary.full_reconciliation, "an incremental run: the listings do not reach January");
    assert_eq!(src.calls_of(CallKind::Document), 2, "both re-fetched by id");
    assert_eq!(r.summary.released, 2);
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-old").await.unwrap().is_some());
    assert!(ledger.list_quarantine().await.unwrap().is_empty());
}

/// A 404 on one document's line items quarantines that document only; it imports once its lines
/// can be read again.
#[tokio::test]
async fn a_404_on_one_documents_line_items_quarantines_that_document_only() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    seed_small(&src);
    let first_credit = src.with_data(|d| d.credit_notes[0].1.id.clone());
    src.with_data(|d| {
        d.lines_missing.insert("inv-1".into());
        d.lines_missing.insert(first_credit.clone());
    });
    let clock = FakeClock::at(t0());
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let q = ledger.list_quarantine().await.unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert!(q.iter().all(|e| e.reason == "line items: not found (404)"));
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-1").await.unwrap().is_none());
    assert!(ledger.get_transaction(DocKind::Invoice, "inv-2").await.unwrap().is_some());

    src.with_data(|d| d.lines_missing.clear());
    // an unchanged document is re-evaluated (its lines read again) an hour after its last attempt
    clock.advance(MIN15);
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(ledger.list_quarantine().await.unwrap().len(), 2, "skipped as unchanged within the hour");
    clock.advance(Duration::from_secs(3_600));
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert!(ledger.list_quarantine().await.unwrap().is_empty());
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}

/// The first (full) reconciliation of 10,000 invoices and 20,000 credit notes spans several
/// invocations; each resumes where the last one checkpointed, and no listing page is fetched twice.
#[tokio::test]
async fn a_long_reconciliation_completes_across_invocations_fetching_each_page_once() {
    let store = TestStore::new();
    let src = FakeSource::new(100);
    let invoices = (0..10_000i64)
        .map(|i| {
            let issue = day(1, 1) + chrono::Days::new(u64::try_from(i % 60).unwrap());
            let inv = invoice(&format!("inv-{i:05}"), InvoiceStatus::Sent, 10 + i, issue, 1_000);
            let lines = lines_for(&inv.id, 1_000, 1);
            (inv, lines)
        })
        .collect();
    let notes = (0..20_000i64)
        .map(|i| {
            let id = format!("cn-{i:05}");
            (credit_note(&id, CreditNoteStatus::Final, None, day(2, 1), 100), lines_for(&id, 100, 1))
        })
        .collect();
    src.with_data(|d| {
        d.put_customer(customer("cust-1", 1));
        d.extend_new(invoices, notes);
    });
    let clock = FakeClock::at(t0());
    // 20 ms per Sequence call and a 5-minute invocation: ~15,000 calls per invocation at most
    src.set_latency(clock.clone(), Duration::from_millis(20));
    let reports = run_until_settled(&store, &src, &clock, "org1", "c1", Duration::from_secs(300)).await;
    let last = reports.last().unwrap();
    assert_eq!(last.outcome, Outcome::Done, "{:?}", last.summary);
    assert!(reports.len() >= 3, "spans invocations: {}", reports.len());
    assert!(reports.iter().all(|r| r.summary.full_reconciliation));

    let pages = src.pages_served();
    let mut distinct = pages.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), pages.len(), "a listing page was fetched twice");
    let credit_pages = pages.iter().filter(|p| p.0 == CallKind::CreditNotes).count();
    assert_eq!(credit_pages, 200, "20,000 credit notes, 100 per page, each page once");
    let checkpoints: u64 = reports.iter().map(|r| r.summary.checkpoints).sum();
    assert!(checkpoints >= u64::try_from(pages.len()).unwrap() - 200, "a checkpoint after (nearly) every page");

    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    assert_eq!(ledger.list_hashes(DocKind::Invoice).await.unwrap().len(), 10_000);
    assert_eq!(ledger.list_hashes(DocKind::Credit).await.unwrap().len(), 20_000);
}
