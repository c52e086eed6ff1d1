//! End to end against the Sequence simulator through the real HTTP client (feature `simulator`):
//! a thin adapter from `SequenceClient` to the sync port, a full import, Sequence-side changes
//! (void, credit note), and an unchanged rerun that writes nothing and fetches no lines.
//! Run with `cargo test -p shared --features simulator --test sync_sim`.
#![cfg(feature = "simulator")]

mod sync_common;

use chrono::NaiveDate;
use shared::clock::{Clock, FakeClock};
use shared::domain::Environment;
use shared::ledger::{DocKind, Ledger, TxnStatus, TxnType};
use shared::sequence as seq;
use shared::sequence::sim::{SeedSpec, SimOptions, Simulator};
use shared::sync::source::{
    Address, CreditNoteQuery, CreditNoteStatus, InvoiceQuery, InvoiceStatus, LinkedService, PageToken, SequenceSource,
    SourceCreditNote, SourceCustomer, SourceError, SourceInvoice, SourceLine, SourcePage, SourceProduct, SourceResult,
    TaxStatus,
};
use shared::sync::{Outcome, run};
use std::sync::Arc;
use sync_common::*;

/// The adapter under test: field mapping only (the client already retries, limits and types).
struct ClientSource(seq::SequenceClient);

fn err(e: seq::SequenceError) -> SourceError {
    match e {
        seq::SequenceError::Unauthorized { .. } => SourceError::Unauthorized,
        seq::SequenceError::Throttled { retry_after, .. } => SourceError::Throttled { retry_after },
        seq::SequenceError::Unavailable { reason, .. } => SourceError::Unavailable(reason),
        seq::SequenceError::OutOfTime { .. } => SourceError::OutOfTime,
        e @ seq::SequenceError::Client { .. } => SourceError::Client(e.to_string()),
        other => SourceError::Other(other.to_string()),
    }
}

fn page<A, B>(p: seq::Page<A>, f: impl Fn(A) -> B) -> SourcePage<B> {
    SourcePage { items: p.items.into_iter().map(f).collect(), next: p.after.map(PageToken) }
}

fn opt(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

fn address(a: seq::Address) -> Option<Address> {
    let a = Address {
        line1: opt(a.line1),
        line2: a.line2,
        town: opt(a.town),
        state: a.state,
        postcode: opt(a.postcode),
        country: opt(a.country),
    };
    (a != Address::default()).then_some(a)
}

fn linked(l: Vec<seq::LinkedService>) -> Vec<LinkedService> {
    l.into_iter()
        .map(|l| LinkedService { external_service: l.external_service.as_str().to_owned(), external_id: l.external_id })
        .collect()
}

fn tax_status(s: &seq::TaxStatus) -> TaxStatus {
    TaxStatus::parse(s.as_str())
}

fn sort_asc() -> Option<seq::SortOrder> {
    Some(seq::SortOrder::Asc)
}

impl SequenceSource for ClientSource {
    async fn list_products(&self, after: Option<&PageToken>) -> SourceResult<SourceProduct> {
        let q = seq::ProductQuery { limit: Some(100), sort_order: sort_asc(), ..Default::default() };
        let p = self.0.list_products_page(&q, after.map(|t| t.0.as_str())).await.map_err(err)?;
        Ok(page(p, |p| SourceProduct {
            id: p.id,
            name: p.name,
            tax_category_id: p.tax_category_id,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }))
    }

    async fn list_customers(&self, after: Option<&PageToken>) -> SourceResult<SourceCustomer> {
        let q = seq::CustomerQuery { limit: Some(100), sort_order: sort_asc(), ..Default::default() };
        let p = self.0.list_customers_page(&q, after.map(|t| t.0.as_str())).await.map_err(err)?;
        Ok(page(p, |c| SourceCustomer {
            tax_status: tax_status(&c.tax_status),
            archived: c.archived_at.is_some(),
            id: c.id,
            legal_name: c.legal_name,
            created_at: Some(c.created_at),
            address: address(c.address),
            tax_ids: Vec::new(),
        }))
    }

    async fn list_invoices(&self, q: &InvoiceQuery, after: Option<&PageToken>) -> SourceResult<SourceInvoice> {
        let q = seq::InvoiceQuery {
            limit: Some(100),
            sort_order: sort_asc(),
            invoice_status: q.status.as_ref().map(|s| seq::InvoiceStatus::from(s.as_str())),
            invoice_after: q.invoice_after,
            invoice_before: q.invoice_before,
            ..Default::default()
        };
        let p = self.0.list_invoices_page(&q, after.map(|t| t.0.as_str())).await.map_err(err)?;
        Ok(page(p, |i| SourceInvoice {
            status: InvoiceStatus::parse(i.status.as_str()),
            currency: i.currency.code().to_owned(),
            customer_tax_status: i.customer_tax_status.as_ref().map(tax_status),
            id: i.id,
            number: i.invoice_number,
            issue_date: i.issue_date,
            accounting_date: i.accounting_date,
            created_at: Some(i.created_at),
            updated_at: i.updated_at,
            customer_id: i.customer_id,
            customer_name: i.customer_legal_company_name,
            billing_address: address(i.customer_billing_address),
            shipping_address: address(i.customer_shipping_address),
            customer_tax_id: i.customer_tax_id,
            net_total: i.net_total,
            total_tax: i.total_tax,
            gross_total: i.gross_total,
            linked_services: linked(i.linked_services),
        }))
    }

    async fn invoice_line_items(&self, id: &str, _after: Option<&PageToken>) -> SourceResult<SourceLine> {
        let lines = self.0.invoice_line_items(id).await.map_err(err)?;
        let items = lines
            .into_iter()
            .map(|l| SourceLine {
                id: l.id,
                product_id: l.product_id,
                title: l.title,
                quantity: l.quantity,
                net_total: l.net_total,
                total_tax: l.total_tax,
                gross_total: l.gross_total,
                credited_line_id: None,
            })
            .collect();
        Ok(SourcePage { items, next: None })
    }

    async fn list_credit_notes(
        &self,
        q: &CreditNoteQuery,
        after: Option<&PageToken>,
    ) -> SourceResult<SourceCreditNote> {
        let q = seq::CreditNoteQuery {
            limit: Some(100),
            sort_order: sort_asc(),
            credit_note_status: q.status.as_ref().map(|s| seq::CreditNoteStatus::from(s.as_str())),
            sent_after: q.sent_after,
            sent_before: q.sent_before,
            ..Default::default()
        };
        let p = self.0.list_credit_notes_page(&q, after.map(|t| t.0.as_str())).await.map_err(err)?;
        Ok(page(p, |c| SourceCreditNote {
            status: CreditNoteStatus::parse(c.status.as_str()),
            currency: c.currency.code().to_owned(),
            id: c.id,
            number: c.credit_note_number,
            invoice_id: c.invoice_id,
            issue_date: c.issue_date,
            accounting_date: c.accounting_date,
            customer_id: c.customer_id,
            customer_name: c.customer_legal_company_name,
            billing_address: address(c.customer_billing_address),
            shipping_address: address(c.customer_shipping_address),
            customer_tax_id: c.customer_tax_id,
            net_total: c.net_total,
            total_tax: c.total_tax,
            gross_total: c.gross_total,
            linked_services: linked(c.linked_services),
        }))
    }

    async fn credit_note_line_items(&self, id: &str, _after: Option<&PageToken>) -> SourceResult<SourceLine> {
        let lines = self.0.credit_note_line_items(id).await.map_err(err)?;
        let items = lines
            .into_iter()
            .map(|l| SourceLine {
                id: l.id,
                product_id: l.product_id,
                title: l.title,
                quantity: l.quantity,
                net_total: l.net_total,
                total_tax: l.total_tax,
                gross_total: l.gross_total,
                credited_line_id: l.line_item_id,
            })
            .collect();
        Ok(SourcePage { items, next: None })
    }
}

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

#[tokio::test]
async fn the_real_client_and_the_simulator_sync_into_the_ledger() {
    let start = anchor().and_hms_opt(18, 0, 0).unwrap().and_utc().timestamp_millis();
    let clock = FakeClock::at(start);
    let spec = SeedSpec { customers: 30, invoices: 260, credit_note_pct: 20, anchor: Some(anchor()) };
    let sim =
        Simulator::start(SimOptions { data: Some(spec), seed: 11, clock: clock.clone(), ..SimOptions::default() })
            .await
            .unwrap();
    let client = seq::SequenceClient::with_options(
        &sim.credentials(Environment::Sandbox).to_client_credentials(),
        seq::ClientOptions::with_base_url(sim.base_url(Environment::Sandbox))
            .clock(clock.clone())
            .limiter(Arc::new(seq::RateLimiter::with_burst(100_000, 10_000, clock.clone()))),
    )
    .unwrap();
    let src = ClientSource(client.clone());
    let store = TestStore::new();
    let j = || job("org1", "c1", &clock, MIN15);

    let first = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert_eq!(first.outcome, Outcome::Done, "{:?}", first.summary);
    assert!(first.summary.created > 100);
    assert_matches_sim(&store, &client).await;

    // Sequence-side changes: void a sent invoice, credit another
    let all = client.all_invoices(&seq::InvoiceQuery::new()).await.unwrap();
    let recent: Vec<&seq::Invoice> = all
        .iter()
        .filter(|i| i.status == seq::InvoiceStatus::Sent && i.credit_note_ids.is_empty())
        .filter(|i| i.issue_date.is_some_and(|d| d > anchor() - chrono::Days::new(30)))
        .collect();
    assert!(recent.len() >= 2, "seed has recent sent invoices");
    clock.advance(MIN15);
    sim.state.void_invoice(&recent[0].id).unwrap();
    sim.state
        .issue_credit_note(shared::sequence::sim::NewCreditNote {
            invoice_id: Some(recent[1].id.clone()),
            ..Default::default()
        })
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
    let cursor_key = shared::ledger::keys::cursor_key(&org("org1"), &conn("c1"), "invoices");
    let before = shared::store::ItemStore::get(&store, &cursor_key).await.unwrap();
    sim.state.set_faults(shared::sequence::sim::Faults {
        fail_next: 1_000,
        fail_status: Some(503),
        ..Default::default()
    });
    clock.advance(MIN15);
    let down = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert!(matches!(down.outcome, Outcome::SourceUnavailable { .. }), "{:?}", down.outcome);
    assert_eq!(shared::store::ItemStore::get(&store, &cursor_key).await.unwrap(), before);
    sim.state.set_faults(shared::sequence::sim::Faults {
        throttle_next: 2,
        retry_after_secs: Some(1),
        ..Default::default()
    });
    clock.advance(MIN15);
    let back = run(&store, &src, clock.as_ref(), &j()).await.unwrap();
    assert_eq!(back.outcome, Outcome::Done);
    assert_matches_sim(&store, &client).await;
    let _ = clock.now_ms();
}
