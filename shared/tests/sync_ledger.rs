//! The ledger: tenant isolation, report queries and summaries, large transactions, idempotent
//! upserts and version history.

mod sync_common;

use sequence_sim::fake::FakeSource;
use shared::clock::FakeClock;
use shared::layout;
use shared::ledger::report::summarize;
use shared::ledger::{DocKind, Ledger, TxnFilter, TxnStatus, TxnType, Upsert};
use shared::store::ItemStore;
use shared::store::lease;
use shared::sync::map::{Mapped, invoice_txn};
use shared::sync::source::{CreditNoteStatus, InvoiceStatus, SourceLine};
use shared::sync::{Outcome, run};
use sync_common::*;

#[tokio::test]
async fn two_orgs_with_colliding_sequence_ids_never_see_each_other() {
    let store = TestStore::new();
    let (a, b) = (FakeSource::new(3), FakeSource::new(3));
    seed_small(&a);
    seed_small(&b);
    // same ids, different content in org B
    b.with_data(|d| {
        let inv = d.invoice_mut("inv-0").unwrap();
        inv.net_total = money(77_00);
        inv.customer_name = "B's customer".into();
    });
    let clock = FakeClock::at(t0());
    store.take_written();
    assert_eq!(
        run(&store, &a, clock.as_ref(), &job("orgA", "c1", &clock, MIN15)).await.unwrap().outcome,
        Outcome::Done
    );
    let written_a = store.take_written();
    assert!(written_a.iter().all(|k| k.pk.starts_with("ORG#orgA")), "A's run wrote outside A");
    assert_eq!(
        run(&store, &b, clock.as_ref(), &job("orgB", "c1", &clock, MIN15)).await.unwrap().outcome,
        Outcome::Done
    );
    let written_b = store.take_written();
    assert!(written_b.iter().all(|k| k.pk.starts_with("ORG#orgB")), "B's run wrote outside B");
    assert_eq!(
        TestStore::ledger_keys(&written_b).len(),
        2 + 2 + 6 + 2,
        "B imported its own copies, not 'unchanged' from A"
    );
    assert_ledger_matches(&store, "orgA", "c1", &a).await;
    assert_ledger_matches(&store, "orgB", "c1", &b).await;
    let la = Ledger::new(&store, org("orgA"), conn("c1"));
    let lb = Ledger::new(&store, org("orgB"), conn("c1"));
    assert_eq!(
        la.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap().txn.customer.name,
        "Customer cust-1"
    );
    assert_eq!(lb.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().unwrap().txn.customer.name, "B's customer");
    let all = TxnFilter::default();
    let ids = |p: shared::ledger::TxnPage| p.items.into_iter().map(|h| h.txn.source_id).collect::<Vec<_>>();
    assert_eq!(ids(la.query_transactions(&all, None, 100).await.unwrap()).len(), 8);
    assert_eq!(ids(lb.query_transactions(&all, None, 100).await.unwrap()).len(), 8);
    // a second connection of org A with the same ids is separate too
    let la2 = Ledger::new(&store, org("orgA"), conn("c2"));
    assert!(la2.get_transaction(DocKind::Invoice, "inv-0").await.unwrap().is_none());
    assert!(la2.product("prod-1").await.unwrap().is_none());
}

#[tokio::test]
async fn reports_filter_paginate_and_summarise_by_region_and_currency() {
    let store = TestStore::new();
    let src = FakeSource::new(50);
    src.with_data(|d| d.put_customer(customer("cust-1", 1)));
    let regions = [("US", Some("MN")), ("US", Some("CA")), ("DE", None), ("CA", Some("ON"))];
    for i in 0..20u32 {
        let (country, state) = regions[(i % 4) as usize];
        let mut inv = invoice(&format!("r-{i:02}"), InvoiceStatus::Sent, i64::from(i), day(2, 1 + i), 10_000);
        inv.billing_address = Some(address(country, state));
        if country == "DE" {
            inv.currency = "EUR".into();
            inv.customer_tax_status = Some(shared::sync::source::TaxStatus::ReverseCharged);
        }
        add_invoice(&src, inv, 1);
    }
    // one voided sale and one refund in US-MN
    src.with_data(|d| {
        d.invoice_mut("r-04").unwrap().status = InvoiceStatus::Voided;
        let mut cn = credit_note("cn-1", CreditNoteStatus::Final, Some("r-00"), day(2, 25), 2_000);
        cn.billing_address = Some(address("US", Some("MN")));
        d.put_credit_note(cn, lines_for("cn-1", 2_000, 1));
    });
    let clock = FakeClock::at(t0());
    assert_eq!(
        run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap().outcome,
        Outcome::Done
    );
    let ledger = Ledger::new(&store, org("org1"), conn("c1"));

    // pagination: pages of 3 in event-date order, all matches exactly once
    let filter = TxnFilter { region: Some("US".into()), ..Default::default() };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = ledger.query_transactions(&filter, cursor.as_deref(), 3).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|h| (h.txn.event_date, h.txn.source_id.clone())));
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "event-date order");
    assert_eq!(seen.len(), 10 + 1, "US-MN and US-CA sales (incl. the voided one) and the refund");

    // period + type + status
    let feb_first_week = TxnFilter {
        from: Some(day(2, 1)),
        to: Some(day(2, 7)),
        txn_type: Some(TxnType::Sale),
        status: Some(TxnStatus::Active),
        ..Default::default()
    };
    let got = ledger.query_transactions(&feb_first_week, None, 100).await.unwrap();
    assert_eq!(got.items.len(), 6, "r-00..r-06 minus the voided r-04");
    let mn = TxnFilter { region: Some("us-mn".into()), ..Default::default() };
    assert_eq!(ledger.query_transactions(&mn, None, 100).await.unwrap().items.len(), 5 + 1);

    let summary = ledger.summary(&TxnFilter::default()).await.unwrap();
    // page by page (4 transactions a page): the same totals once the pages are merged
    let mut merged = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let (rows, next) = ledger.summary_page(&TxnFilter::default(), cursor.as_deref(), 4).await.unwrap();
        assert!(rows.iter().map(|r| r.count).sum::<u64>() <= 4);
        shared::ledger::RegionSummary::merge(&mut merged, rows);
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert!(pages >= 5, "{pages} pages");
    assert_eq!(merged, summary);
    let row = |r: &str| summary.iter().find(|s| s.region == r).unwrap().clone();
    let mn = row("US-MN");
    assert_eq!((mn.count, mn.sales_count, mn.refund_count), (5, 4, 1), "voided r-04 left out");
    assert_eq!(mn.gross_sales, money(4 * 10_000 - 2_000));
    assert_eq!(mn.tax_collected, money(4 * 1_000 - 200));
    assert_eq!(mn.taxable_sales, money(4 * 10_000 - 2_000));
    assert_eq!(mn.uncalculated_count, 5);
    let de = row("DE");
    assert_eq!(de.currency.code(), "EUR");
    assert_eq!((de.count, de.taxable_sales), (5, money(0)), "reverse charge: nothing taxable");
    assert_eq!(row("CA-ON").count, 5);
    assert_eq!(summary.len(), 4);
    // the pure aggregation agrees with the query path
    let heads = ledger.query_transactions(&TxnFilter::default(), None, 1_000).await.unwrap().items;
    assert_eq!(summarize(&heads), summary);
}

fn big_lines(n: usize) -> Vec<SourceLine> {
    let mut lines = lines_for("big", 100, n);
    for l in &mut lines {
        l.title = "x".repeat(400);
    }
    lines
}

#[tokio::test]
async fn large_transactions_split_their_lines_and_keep_versions() {
    let store = TestStore::new();
    let (o, c) = (org("org1"), conn("c1"));
    let guard = lease::acquire(&store, &layout::lease_key(&o, &c), "h", t0(), 60_000).await.unwrap().unwrap();
    let ledger = Ledger::new(&store, o.clone(), c.clone());
    let inv = invoice("big", InvoiceStatus::Sent, 1, day(3, 1), 2_000 * 100);
    let lines = big_lines(2_000); // ~1 MB of lines
    let Mapped::Import(t) = invoice_txn(&inv, &lines, None) else { panic!("maps") };
    store.take_written();
    assert_eq!(ledger.upsert_transaction(&guard, t.clone(), t0()).await.unwrap(), Upsert::Created);
    let written = store.take_written();
    assert!(written.iter().filter(|k| k.sk.starts_with("TXNLINES#")).count() >= 3, "split into chunks");
    for k in &written {
        let item = shared::store::ItemStore::get(&store, k).await.unwrap().unwrap();
        assert!(item.body.len() < 400_000, "{} is {} bytes", k.sk, item.body.len());
    }
    let got = ledger.get_transaction(DocKind::Invoice, "big").await.unwrap().unwrap();
    assert_eq!(got.txn.lines.len(), 2_000);
    assert_eq!(got.txn.lines[1_999].line_id, "big-l1999");
    // idempotent: same content writes nothing
    assert_eq!(ledger.upsert_transaction(&guard, t, t0()).await.unwrap(), Upsert::Unchanged);
    assert_eq!(store.take_written(), vec![]);
    // a void is a new version with the same lines; the old chunks are dropped
    let mut voided = inv.clone();
    voided.status = InvoiceStatus::Voided;
    voided.updated_at += chrono::Duration::seconds(1);
    let Mapped::Import(t2) = invoice_txn(&voided, &lines, None) else { panic!() };
    assert_eq!(ledger.upsert_transaction(&guard, t2, t0() + 1).await.unwrap(), Upsert::Updated { version: 2 });
    let got = ledger.get_transaction(DocKind::Invoice, "big").await.unwrap().unwrap();
    assert_eq!((got.version, got.txn.status, got.txn.lines.len()), (2, TxnStatus::Cancelled, 2_000));
    assert_eq!(got.versions.len(), 2);
    let old = layout::lines_key(&o, &c, DocKind::Invoice, "big", 1, 0);
    assert!(shared::store::ItemStore::get(&store, &old).await.unwrap().is_none(), "superseded chunks removed");
    // an older source version is refused
    let Mapped::Import(stale) = invoice_txn(&inv, &lines[..1], None) else { panic!() };
    assert_eq!(ledger.upsert_transaction(&guard, stale, t0() + 2).await.unwrap(), Upsert::Stale);
}

#[tokio::test]
async fn products_keep_the_tax_code_the_user_assigned() {
    let store = TestStore::new();
    let src = FakeSource::new(10);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    // the console assigns a tax code (a plain versioned write of the product record)
    let key = layout::product_key(&org("org1"), &conn("c1"), "prod-1");
    let cur = shared::store::record::get::<shared::ledger::ProductRecord, _>(&store, &key).await.unwrap().unwrap();
    let mut v = cur.value.clone();
    v.tax_code = Some("SAAS-B2B".into());
    store.write(vec![shared::store::record::put(key.clone(), &v, cur.if_unchanged()).unwrap()]).await.unwrap();
    // Sequence renames the product
    src.with_data(|d| {
        let mut p = product("prod-1", 1);
        p.name = "Renamed".into();
        p.updated_at = Some(ts(99));
        d.put_product(p);
    });
    clock.advance(MIN15);
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    let p = Ledger::new(&store, org("org1"), conn("c1")).product("prod-1").await.unwrap().unwrap();
    assert_eq!((p.name.as_str(), p.tax_code.as_deref()), ("Renamed", Some("SAAS-B2B")));
}
