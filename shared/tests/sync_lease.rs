//! One writer per connection: concurrent invocations and a holder paused past its lease.

mod sync_common;

use sequence_sim::fake::{CallKind, FakeSource};
use shared::clock::FakeClock;
use shared::layout;
use shared::ledger::{DocKind, Ledger};
use shared::store::lease;
use shared::sync::{Outcome, run};
use std::sync::Arc;
use std::time::Duration;
use sync_common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_invocations_at_once_one_works_the_other_exits_cleanly() {
    let store = TestStore::new();
    let src = Arc::new(FakeSource::new(3));
    seed_small(&src);
    let clock = FakeClock::at(t0());
    let pause = src.pause_at(1);
    let a = {
        let (store, src, clock) = (store.clone(), src.clone(), clock.clone());
        let j = job("org1", "c1", &clock, MIN15);
        tokio::spawn(async move { run(&store, src.as_ref(), clock.as_ref(), &j).await })
    };
    pause.reached.await.unwrap();
    // A holds the lease and is inside its first Sequence call
    let b = run(&store, src.as_ref(), clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(b.outcome, Outcome::Busy);
    assert_eq!(b.summary.requests, 0);
    pause.resume.send(()).unwrap();
    let a = a.await.unwrap().unwrap();
    assert_eq!(a.outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
    // A released the lease: the next run starts at once
    let c = run(&store, src.as_ref(), clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(c.outcome, Outcome::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_paused_past_expiry_has_its_writes_rejected_by_the_fence() {
    let store = TestStore::new();
    let src = Arc::new(FakeSource::new(10));
    seed_small(&src);
    let clock = FakeClock::at(t0());
    // A has checked its lease, listed the invoices and is fetching inv-0's lines (about to write
    // it) when it stalls.
    let pause = src.pause_at_kind(CallKind::InvoiceLines, 1);
    let a = {
        let (store, src, clock) = (store.clone(), src.clone(), clock.clone());
        let j = job("org1", "c1", &clock, Duration::from_secs(3_600));
        tokio::spawn(async move { run(&store, src.as_ref(), clock.as_ref(), &j).await })
    };
    pause.reached.await.unwrap();
    clock.advance(Duration::from_secs(121));
    let b = run(&store, src.as_ref(), clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(b.outcome, Outcome::Done, "the lease expired: B takes over");
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));
    let before = ledger.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap();
    // inv-0's lines change, so A (resuming with fresh lines) really tries to write
    src.with_data(|d| d.invoice_lines.get_mut("inv-0").unwrap()[0].title = "changed".into());
    store.take_written();
    let attempts = store.write_attempts();
    pause.resume.send(()).unwrap();
    let a = a.await.unwrap().unwrap();
    assert_eq!(a.outcome, Outcome::LeaseLost);
    assert_eq!(store.write_attempts(), attempts + 1, "A did try to write (once), and the store refused it");
    assert_eq!(store.take_written(), vec![], "nothing A sent after losing the lease landed");
    assert_eq!(ledger.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap(), before);
}

#[tokio::test]
async fn a_stale_guard_cannot_write_the_ledger() {
    let store = TestStore::new();
    let (o, c) = (org("org1"), conn("c1"));
    let key = layout::lease_key(&o, &c);
    let old = lease::acquire(&store, &key, "a", t0(), 60_000).await.unwrap().unwrap();
    let new = lease::acquire(&store, &key, "b", t0() + 60_001, 60_000).await.unwrap().unwrap();
    assert!(new.fence > old.fence);
    let ledger = Ledger::new(&store, o, c);
    let rec = shared::sync::map::product_record(&product("p1", 1));
    let err = ledger.upsert_product(&old, rec.clone()).await.unwrap_err();
    assert!(matches!(err, shared::ledger::LedgerError::Fenced), "{err:?}");
    assert!(ledger.product("p1").await.unwrap().is_none());
    ledger.upsert_product(&new, rec).await.unwrap();
    assert!(ledger.product("p1").await.unwrap().is_some());
}

#[tokio::test]
async fn a_customer_sync_keeps_the_exemption_jurisdictions_set_on_our_side() {
    use shared::ledger::{CustomerRecord, CustomerTaxStatus};
    use shared::store::ItemStore;
    let store = TestStore::new();
    let (o, c) = (org("org1"), conn("c1"));
    let guard = lease::acquire(&store, &layout::lease_key(&o, &c), "a", t0(), 60_000).await.unwrap().unwrap();
    let ledger = Ledger::new(&store, o.clone(), c.clone());
    let rec = CustomerRecord {
        id: "cu1".into(),
        legal_name: "School".into(),
        address: None,
        region: None,
        tax_status: CustomerTaxStatus::TaxExempt,
        tax_ids: vec![],
        archived: false,
        content_hash: "h1".into(),
        exempt_jurisdictions: vec![],
    };
    ledger.upsert_customer(&guard, rec.clone()).await.unwrap();
    // Scoped on our side (what a console edit writes), then Sequence changes the customer.
    let scoped = CustomerRecord { exempt_jurisdictions: vec!["US-TX".into()], ..rec.clone() };
    let key = layout::customer_key(&o, &c, "cu1");
    store.write(vec![shared::store::record::put(key, &scoped, shared::store::Expect::Any).unwrap()]).await.unwrap();
    let changed = CustomerRecord { legal_name: "School District".into(), content_hash: "h2".into(), ..rec };
    ledger.upsert_customer(&guard, changed).await.unwrap();
    let now = ledger.customer("cu1").await.unwrap().unwrap();
    assert_eq!((now.legal_name.as_str(), now.exempt_jurisdictions), ("School District", vec!["US-TX".to_owned()]));
}
