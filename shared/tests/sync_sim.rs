//! End to end against the Sequence simulator (`sequence-sim`) through the real HTTP client: a thin
//! adapter from `SequenceClient` to the sync port, a full import of a seeded sandbox with the hard cases
//! (the unknown-currency invoice is quarantined, the credit note of a deleted invoice is imported),
//! Sequence-side changes (void, credit note), and an unchanged rerun that writes nothing and fetches no
//! lines.

mod sync_common;

use chrono::NaiveDate;
use sequence_sim::{SeedSpec, SimOptions, Simulator};
use shared::clock::{Clock, FakeClock};
use shared::domain::Environment;
use shared::ledger::{DocKind, Ledger, TxnStatus, TxnType};
use shared::sequence as seq;
use shared::sync::adapter::SequenceAdapter;
use shared::sync::{Outcome, run};
use std::sync::Arc;
use sync_common::*;

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

/// The ledger holds exactly the simulator's importable documents, each with its status.
async fn assert_matches_sim(store: &TestStore, c: &seq::SequenceClient) {
    let ledger = Ledger::new(store, org("org1"), conn("c1"));
    let invoices = c.all_invoices(&seq::InvoiceQuery::new()).await.unwrap();
    let mut n = 0;
    for i in &invoices {
        let got = ledger.get_transaction(DocKind::Invoice, &i.id).await.unwrap();
        if shared::domain::Currency::parse(&i.currency).is_err() {
            assert!(got.is_none(), "unknown currency {} imported", i.currency);
            assert!(ledger.quarantined("invoice", &i.id).await.unwrap().is_some(), "{} not quarantined", i.id);
            continue;
        }
        let want = match i.status {
            seq::InvoiceStatus::Final | seq::InvoiceStatus::Sent => TxnStatus::Active,
            seq::InvoiceStatus::Voided => TxnStatus::Cancelled,
            _ => {
                assert!(got.is_none(), "draft {} imported", i.id);
                continue;
            }
        };
        n += 1;
        let h = got.unwrap_or_else(|| panic!("invoice {} missing", i.id));
        assert_eq!((h.txn.status, h.txn.txn_type), (want, TxnType::Sale), "{}", i.id);
        assert_eq!(h.txn.gross_total, i.gross_total);
        assert_eq!(h.txn.calculation_id.as_deref(), i.sphere_calculation_id());
    }
    assert_eq!(ledger.list_hashes(DocKind::Invoice).await.unwrap().len(), n);
    let notes = c.all_credit_notes(&seq::CreditNoteQuery::new()).await.unwrap();
    let mut n = 0;
    for cn in &notes {
        let got = ledger.get_transaction(DocKind::Credit, &cn.id).await.unwrap();
        let want = match cn.status {
            seq::CreditNoteStatus::Final | seq::CreditNoteStatus::Sent => TxnStatus::Active,
            seq::CreditNoteStatus::Voided => TxnStatus::Cancelled,
            _ => continue,
        };
        n += 1;
        let h = got.unwrap_or_else(|| panic!("credit note {} missing", cn.id));
        assert_eq!((h.txn.status, h.txn.txn_type), (want, TxnType::Refund));
        assert_eq!(h.txn.refunded_invoice_id, cn.invoice_id);
    }
    assert_eq!(ledger.list_hashes(DocKind::Credit).await.unwrap().len(), n);
}

/// A simulator seeded with `invoices` (and their customers) on a fake clock at the anchor, and the real
/// client pointed at its sandbox with a limiter that never waits.
async fn sim_and_client(invoices: u32, seed: u64) -> (Arc<FakeClock>, sequence_sim::SimHandle, seq::SequenceClient) {
    let start = anchor().and_hms_opt(18, 0, 0).unwrap().and_utc().timestamp_millis();
    let clock = FakeClock::at(start);
    let spec = SeedSpec { customers: 30, invoices, credit_note_pct: 20, anchor: Some(anchor()), ..SeedSpec::default() };
    let sim = Simulator::start(SimOptions { data: Some(spec), seed, clock: clock.clone(), ..SimOptions::default() })
        .await
        .unwrap();
    let client = seq::SequenceClient::with_options(
        &sim.credentials(Environment::Sandbox).to_client_credentials(),
        seq::ClientOptions::with_base_url(sim.base_url(Environment::Sandbox))
            .clock(clock.clone())
            .limiter(Arc::new(seq::RateLimiter::with_burst(100_000, 10_000, clock.clone()))),
    )
    .unwrap();
    (clock, sim, client)
}

#[tokio::test]
async fn the_real_client_and_the_simulator_sync_into_the_ledger() {
    let (clock, sim, client) = sim_and_client(260, 11).await;
    let src = SequenceAdapter { client: client.clone() };
    let store = TestStore::new();
    let j = || job("org1", "c1", &clock, MIN15);

    let first = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert_eq!(first.outcome, Outcome::Done, "{:?}", first.summary);
    assert!(first.summary.created > 100);
    let hard = sim.state.hard_cases(Environment::Sandbox).unwrap();
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let quarantined: Vec<(String, String)> =
        ledger.list_quarantine().await.unwrap().into_iter().map(|q| (q.kind, q.source_id)).collect();
    assert_eq!(quarantined, vec![("invoice".to_owned(), hard.unknown_currency_invoice.clone())]);
    let orphan = ledger.get_transaction(DocKind::Credit, &hard.orphan_credit_note).await.unwrap().unwrap();
    assert_eq!(orphan.txn.refunded_invoice_id.as_deref(), Some(hard.deleted_invoice.as_str()));
    assert_matches_sim(&store, &client).await;

    // Sequence-side changes: void a sent invoice, credit another
    let all = client.all_invoices(&seq::InvoiceQuery::new()).await.unwrap();
    let credited: std::collections::HashSet<String> = client
        .all_credit_notes(&seq::CreditNoteQuery::new())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.invoice_id)
        .collect();
    let recent: Vec<&seq::Invoice> = all
        .iter()
        .filter(|i| i.status == seq::InvoiceStatus::Sent && !credited.contains(&i.id))
        .filter(|i| i.issue_date.is_some_and(|d| d > anchor() - chrono::Days::new(30)))
        .collect();
    assert!(recent.len() >= 2, "seed has recent sent invoices");
    clock.advance(MIN15);
    sim.state.void_invoice(&recent[0].id).unwrap();
    sim.state
        .issue_credit_note(sequence_sim::NewCreditNote { invoice_id: Some(recent[1].id.clone()), ..Default::default() })
        .unwrap();
    clock.advance(MIN15);
    let second = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert_eq!(second.outcome, Outcome::Done);
    assert!(!second.summary.full_reconciliation);
    assert!(second.summary.updated >= 1 && second.summary.created >= 1, "{:?}", second.summary);
    assert_matches_sim(&store, &client).await;
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let voided = ledger.get_transaction(DocKind::Invoice, &recent[0].id).await.unwrap().unwrap();
    assert_eq!((voided.version, voided.txn.status), (2, TxnStatus::Cancelled));

    // nothing changed: zero ledger writes, zero line-item requests
    store.take_written();
    clock.advance(MIN15);
    let third = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert_eq!(third.outcome, Outcome::Done);
    assert_eq!(TestStore::ledger_keys(&store.take_written()), vec![]);
    assert_eq!(third.summary.line_item_requests, 0);
    assert_eq!((third.summary.created, third.summary.updated), (0, 0));

    // Sequence down (503 on every retry of the client): a typed outcome, cursor untouched, and the
    // next run after it recovers is clean. Throttling the client absorbs (429 twice) is invisible.
    let cursor_key = shared::layout::cursor_key(&org("org1"), &conn("c1"), "invoices");
    let before = shared::store::ItemStore::get(&store, &cursor_key).await.unwrap();
    sim.state.set_faults(sequence_sim::Faults { fail_next: 1_000, fail_status: Some(503), ..Default::default() });
    clock.advance(MIN15);
    let down = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert!(matches!(down.outcome, Outcome::SourceUnavailable { .. }), "{:?}", down.outcome);
    assert_eq!(shared::store::ItemStore::get(&store, &cursor_key).await.unwrap(), before);
    sim.state.set_faults(sequence_sim::Faults { throttle_next: 2, retry_after_secs: Some(1), ..Default::default() });
    clock.advance(MIN15);
    let back = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert_eq!(back.outcome, Outcome::Done);
    assert_matches_sim(&store, &client).await;
    let _ = clock.now_ms();
}

/// Through the real client: three customers on one page are served in shapes our models cannot read
/// (a wrong type, a missing required field, an object where a string belongs). The other customers
/// and every document import; the three are quarantined with reasons that name the field and not the
/// value; when Sequence serves them correctly again they import and leave the quarantine.
#[tokio::test]
async fn three_undecodable_customers_on_a_page_are_quarantined_and_the_rest_imported() {
    use sequence_sim::raw::{RawPatch, RawPatchRequest, Resource};
    let (clock, sim, client) = sim_and_client(60, 5).await;
    let customers = client.all_customers(&seq::CustomerQuery::default()).await.unwrap();
    let bad: Vec<String> = customers.iter().take(3).map(|c| c.id.clone()).collect();
    let patches = [
        serde_json::json!({"set": {"createdAt": 1_750_000_000}}),
        serde_json::json!({"unset": ["legalName"]}),
        serde_json::json!({"set": {"address": "Secret Street 1, Springfield"}}),
    ];
    for (id, p) in bad.iter().zip(patches) {
        let patch: RawPatch = serde_json::from_value(p).unwrap();
        sim.state.raw_patch(RawPatchRequest { resource: Resource::Customers, id: id.clone(), patch }).unwrap();
    }
    let src = SequenceAdapter { client: client.clone() };
    let store = TestStore::new();
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done, "{:?}", r.summary);
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let mut q = ledger.list_quarantine().await.unwrap();
    q.retain(|e| e.kind == "customer");
    q.sort_by_key(|e| bad.iter().position(|b| *b == e.source_id));
    let reasons: Vec<&str> = q.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(q.iter().map(|e| &e.source_id).collect::<Vec<_>>(), bad.iter().collect::<Vec<_>>());
    assert_eq!(
        reasons,
        [
            "createdAt: invalid type: integer `…`, expected an RFC 3339 formatted date and time string",
            "missing field `legalName`",
            "address: invalid type: string \"…\", expected struct Address",
        ]
    );
    for c in &customers[3..] {
        assert!(ledger.customer(&c.id).await.unwrap().is_some(), "customer {} imported", c.id);
    }
    assert_matches_sim(&store, &client).await;

    sim.state.clear_raw_patches();
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.summary.released, 3, "{:?}", r.summary);
    for id in &bad {
        assert!(ledger.customer(id).await.unwrap().is_some());
    }
    assert!(ledger.list_quarantine().await.unwrap().iter().all(|e| e.kind != "customer"));
}
