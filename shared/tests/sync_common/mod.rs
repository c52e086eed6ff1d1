//! Shared fixtures of the sync tests: a store wrapper that counts writes and can "crash" (fail every
//! write after the N-th), document builders, and the ledger-equals-source check.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use sequence_sim::fake::FakeSource;
use shared::clock::FakeClock;
use shared::domain::{ConnectionId, OrgId};
use shared::ledger::{DocKind, Ledger, TxnStatus, TxnType};
use shared::store::{EmbeddedStore, Item, ItemStore, Key, Page, Query, StoreError, WriteOp};
use shared::sync::map::{content_hash, invoice_content_hash};
use shared::sync::source::*;
use shared::sync::{Outcome, RunReport, RunRequest, SyncSettings, run};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 2026-03-10T12:00:00Z.
pub fn t0() -> i64 {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap().timestamp_millis()
}

pub fn ts(secs_after_2026: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(secs_after_2026)
}

pub fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

#[derive(Default)]
pub struct Stats {
    attempts: AtomicU64,
    /// Negative: never fail.
    fail_after: AtomicI64,
    written: Mutex<Vec<Key>>,
}

/// Removes the store's directory when the last clone of the store is dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An [`EmbeddedStore`] that records written keys and can fail every write after the N-th attempt.
#[derive(Clone)]
pub struct TestStore {
    pub inner: EmbeddedStore,
    pub stats: Arc<Stats>,
    _dir: Arc<TempDir>,
}

impl TestStore {
    pub fn new() -> Self {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("sphere-sync-test-{}", shared::domain::new_uuid()));
        let stats = Stats::default();
        stats.fail_after.store(-1, Ordering::SeqCst);
        TestStore { inner: EmbeddedStore::open(&dir).unwrap(), stats: Arc::new(stats), _dir: Arc::new(TempDir(dir)) }
    }

    /// Lets `n` more write attempts through, then fails every write (a crash of the writer).
    pub fn crash_after(&self, n: u64) {
        let base = self.stats.attempts.load(Ordering::SeqCst);
        self.stats.fail_after.store(i64::try_from(base + n).unwrap(), Ordering::SeqCst);
    }

    pub fn heal(&self) {
        self.stats.fail_after.store(-1, Ordering::SeqCst);
    }

    pub fn write_attempts(&self) -> u64 {
        self.stats.attempts.load(Ordering::SeqCst)
    }

    /// Keys written successfully since the last `take_written`.
    pub fn take_written(&self) -> Vec<Key> {
        std::mem::take(&mut *self.stats.written.lock().unwrap())
    }

    /// Ledger items (transactions, lines, products, customers, quarantine) among `keys`.
    pub fn ledger_keys(keys: &[Key]) -> Vec<Key> {
        keys.iter()
            .filter(|k| ["TXN", "PRODUCT#", "CUSTOMER#", "QUARANTINE#"].iter().any(|p| k.sk.starts_with(p)))
            .cloned()
            .collect()
    }
}

impl ItemStore for TestStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        self.inner.query(q).await
    }
    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let n = self.stats.attempts.fetch_add(1, Ordering::SeqCst);
        let limit = self.stats.fail_after.load(Ordering::SeqCst);
        if limit >= 0 && n >= u64::try_from(limit).unwrap() {
            return Err(StoreError::Unavailable("injected crash".into()));
        }
        let keys: Vec<Key> =
            ops.iter().filter(|o| !matches!(o, WriteOp::CheckFence { .. })).map(|o| o.key().clone()).collect();
        self.inner.write(ops).await?;
        self.stats.written.lock().unwrap().extend(keys);
        Ok(())
    }
}

pub fn org(s: &str) -> OrgId {
    OrgId::parse(s).unwrap()
}

pub fn conn(s: &str) -> ConnectionId {
    ConnectionId::parse(s).unwrap()
}

static HOLDER: AtomicU64 = AtomicU64::new(0);

/// A job with a fresh holder id and a deadline `budget` after the clock's now.
pub fn job(o: &str, c: &str, clock: &FakeClock, budget: Duration) -> RunRequest {
    use shared::clock::Clock;
    RunRequest {
        org: org(o),
        connection: conn(c),
        holder: format!("inv-{}", HOLDER.fetch_add(1, Ordering::SeqCst)),
        deadline_ms: clock.now_ms() + i64::try_from(budget.as_millis()).unwrap(),
        force_full: false,
        settings: SyncSettings::default(),
    }
}

pub const MIN15: Duration = Duration::from_secs(900);

/// Runs invocations (each with a fresh deadline of `budget`) until one is not `MoreWork`.
pub async fn run_until_settled<S: ItemStore>(
    store: &S,
    src: &FakeSource,
    clock: &Arc<FakeClock>,
    o: &str,
    c: &str,
    budget: Duration,
) -> Vec<RunReport> {
    run_jobs_until_settled(store, src, clock, || job(o, c, clock, budget)).await
}

/// Runs invocations of `make()` until one is not `MoreWork`.
pub async fn run_jobs_until_settled<S: ItemStore>(
    store: &S,
    src: &FakeSource,
    clock: &Arc<FakeClock>,
    make: impl Fn() -> RunRequest,
) -> Vec<RunReport> {
    let mut out = Vec::new();
    for _ in 0..200 {
        let r = run(store, src, clock.as_ref(), &make()).await.expect("store ok");
        let more = matches!(r.outcome, Outcome::MoreWork { .. });
        if std::env::var("SYNC_DEBUG").is_ok() {
            eprintln!("{:?} {:?}", r.outcome, serde_json::to_string(&r.summary).unwrap());
        }
        out.push(r);
        if !more {
            return out;
        }
    }
    panic!("did not settle in 200 invocations");
}

pub fn address(country: &str, state: Option<&str>) -> PostalAddress {
    PostalAddress {
        line1: Some("1 Main St".into()),
        line2: None,
        town: Some("Town".into()),
        state: state.map(str::to_owned),
        postcode: Some("55401".into()),
        country: Some(country.into()),
    }
}

pub fn product(id: &str, created: i64) -> SourceProduct {
    SourceProduct {
        id: id.into(),
        name: format!("Product {id}"),
        tax_category_id: Some("cat-1".into()),
        created_at: Some(ts(created)),
        updated_at: Some(ts(created)),
    }
}

pub fn customer(id: &str, created: i64) -> SourceCustomer {
    SourceCustomer {
        id: id.into(),
        legal_name: format!("Customer {id}"),
        created_at: Some(ts(created)),
        address: Some(address("US", Some("MN"))),
        tax_status: TaxStatus::Taxed,
        tax_ids: vec![],
        archived: false,
    }
}

pub fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

pub fn invoice(id: &str, status: InvoiceStatus, created: i64, issue: NaiveDate, net_cents: i64) -> SourceInvoice {
    SourceInvoice {
        id: id.into(),
        number: Some(format!("INV-{id}")),
        status,
        currency: "USD".into(),
        issue_date: Some(issue),
        accounting_date: Some(issue),
        created_at: Some(ts(created)),
        updated_at: ts(created),
        customer_id: "cust-1".into(),
        customer_name: "Customer cust-1".into(),
        billing_address: Some(address("US", Some("MN"))),
        shipping_address: None,
        customer_tax_status: Some(TaxStatus::Taxed),
        customer_tax_id: None,
        net_total: money(net_cents),
        total_tax: money(net_cents / 10),
        gross_total: money(net_cents + net_cents / 10),
        linked_services: vec![LinkedService { external_service: "Sphere".into(), external_id: format!("calc-{id}") }],
    }
}

pub fn lines_for(id: &str, net_cents: i64, n: usize) -> Vec<SourceLine> {
    (0..n)
        .map(|i| SourceLine {
            id: format!("{id}-l{i}"),
            product_id: Some("prod-1".into()),
            title: format!("Line {i}"),
            quantity: Decimal::ONE,
            net_total: money(net_cents),
            total_tax: money(net_cents / 10),
            gross_total: money(net_cents + net_cents / 10),
            credited_line_id: None,
        })
        .collect()
}

pub fn credit_note(
    id: &str,
    status: CreditNoteStatus,
    invoice_id: Option<&str>,
    issue: NaiveDate,
    net_cents: i64,
) -> SourceCreditNote {
    SourceCreditNote {
        id: id.into(),
        number: Some(format!("CN-{id}")),
        status,
        invoice_id: invoice_id.map(str::to_owned),
        currency: "USD".into(),
        issue_date: Some(issue),
        accounting_date: Some(issue),
        customer_id: "cust-1".into(),
        customer_name: "Customer cust-1".into(),
        billing_address: Some(address("US", Some("MN"))),
        shipping_address: None,
        customer_tax_id: None,
        net_total: money(net_cents),
        total_tax: money(net_cents / 10),
        gross_total: money(net_cents + net_cents / 10),
        linked_services: vec![],
    }
}

/// Adds an invoice with `n` lines to the fake.
pub fn add_invoice(src: &FakeSource, inv: SourceInvoice, n_lines: usize) {
    let net = i64::try_from(inv.net_total.mantissa()).unwrap();
    let lines = lines_for(&inv.id, net / i64::try_from(n_lines.max(1)).unwrap(), n_lines);
    src.with_data(|d| d.put_invoice(inv, lines));
}

/// A small account: 2 products, 2 customers, 7 invoices (one draft), 2 credit notes.
pub fn seed_small(src: &FakeSource) {
    src.with_data(|d| {
        d.put_product(product("prod-1", 1));
        d.put_product(product("prod-2", 2));
        d.put_customer(customer("cust-1", 1));
        d.put_customer(customer("cust-2", 2));
    });
    let statuses = [
        InvoiceStatus::Final,
        InvoiceStatus::Sent,
        InvoiceStatus::Sent,
        InvoiceStatus::Voided,
        InvoiceStatus::Draft,
        InvoiceStatus::Final,
        InvoiceStatus::Sent,
    ];
    for (i, s) in statuses.into_iter().enumerate() {
        let n = i64::try_from(i).unwrap();
        add_invoice(
            src,
            invoice(&format!("inv-{i}"), s, 100 + n * 10, day(3, 1 + u32::try_from(i).unwrap()), 10_000 + n * 100),
            2,
        );
    }
    src.with_data(|d| {
        d.put_credit_note(
            credit_note("cn-1", CreditNoteStatus::Final, Some("inv-1"), day(3, 8), 2_000),
            lines_for("cn-1", 2_000, 1),
        );
        d.put_credit_note(credit_note("cn-2", CreditNoteStatus::Sent, None, day(3, 9), 500), lines_for("cn-2", 500, 1));
    });
}

/// Every importable document of the fake is in the ledger exactly once at its latest content, every
/// other document is absent, and nothing else is there.
pub async fn assert_ledger_matches<S: ItemStore>(store: &S, o: &str, c: &str, src: &FakeSource) {
    let ledger = Ledger::new(store, org(o), conn(c));
    let (invoices, credit_notes, inv_lines, cn_lines) = src.with_data(|d| {
        (
            d.invoices.iter().map(|(_, i)| i.clone()).collect::<Vec<_>>(),
            d.credit_notes.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
            d.invoice_lines.clone(),
            d.credit_note_lines.clone(),
        )
    });
    let mut expected = 0;
    for inv in &invoices {
        let got = ledger.get_transaction(DocKind::Invoice, &inv.id).await.unwrap();
        let status = match inv.status {
            InvoiceStatus::Final | InvoiceStatus::Sent => TxnStatus::Active,
            InvoiceStatus::Voided => TxnStatus::Cancelled,
            _ => {
                assert!(got.is_none(), "{} must not be imported", inv.id);
                continue;
            }
        };
        expected += 1;
        let h = got.unwrap_or_else(|| panic!("{} missing", inv.id));
        let lines = inv_lines.get(&inv.id).cloned().unwrap_or_default();
        assert_eq!(h.txn.content_hash, invoice_content_hash(inv, &lines), "{} not at its latest version", inv.id);
        assert_eq!((h.txn.status, h.txn.txn_type), (status, TxnType::Sale));
        assert_eq!(h.txn.lines.len(), lines.len());
        assert_eq!(h.version as usize, h.versions.len());
    }
    assert_eq!(ledger.list_hashes(DocKind::Invoice).await.unwrap().len(), expected, "extra invoices in the ledger");
    let mut expected = 0;
    for cn in &credit_notes {
        let got = ledger.get_transaction(DocKind::Credit, &cn.id).await.unwrap();
        let status = match cn.status {
            CreditNoteStatus::Final | CreditNoteStatus::Sent => TxnStatus::Active,
            CreditNoteStatus::Voided => TxnStatus::Cancelled,
            _ => {
                assert!(got.is_none());
                continue;
            }
        };
        expected += 1;
        let h = got.unwrap_or_else(|| panic!("{} missing", cn.id));
        let lines = cn_lines.get(&cn.id).cloned().unwrap_or_default();
        assert_eq!(h.txn.content_hash, content_hash(cn, &lines), "{} not at its latest version", cn.id);
        assert_eq!((h.txn.status, h.txn.txn_type), (status, TxnType::Refund));
        assert_eq!(h.txn.refunded_invoice_id, cn.invoice_id);
    }
    assert_eq!(ledger.list_hashes(DocKind::Credit).await.unwrap().len(), expected, "extra credit notes in the ledger");
    let kept = ledger.all_counters().await.unwrap();
    assert_eq!(kept, ledger.recomputed_counters().await.unwrap(), "the kept counters differ from the ledger");
}
