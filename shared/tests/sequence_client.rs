//! The Sequence client against the simulator on 127.0.0.1: every endpoint, and every failure the
//! client must handle (429 + Retry-After, 5xx bursts, non-retried 4xx, 401, repeated and expired page
//! tokens, deadlines, timeouts). Waits go through a FakeClock, so nothing really sleeps.

use sequence_sim::{Faults, SeedSpec, SimHandle, SimOptions, Simulator};
use shared::clock::{Clock, FakeClock};
use shared::domain::Environment;
use shared::sequence::*;
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_780_000_000_000;

async fn sim(data: bool) -> SimHandle {
    let data = data.then(|| SeedSpec {
        customers: 30,
        invoices: 150,
        credit_note_pct: 20,
        anchor: chrono::NaiveDate::from_ymd_opt(2026, 6, 30),
        ..SeedSpec::default()
    });
    Simulator::start(SimOptions { data, seed: 42, ..SimOptions::default() }).await.unwrap()
}

/// A client on a fake clock with its own generous limiter.
fn client(sim: &SimHandle, env: Environment) -> (SequenceClient, Arc<FakeClock>) {
    let clock = FakeClock::at(T0);
    let opts = ClientOptions::with_base_url(sim.base_url(env))
        .clock(clock.clone())
        .limiter(Arc::new(RateLimiter::with_burst(100_000, 10_000, clock.clone())));
    let c = SequenceClient::with_options(&sim.credentials(env).to_client_credentials(), opts).unwrap();
    (c, clock)
}

#[tokio::test]
async fn every_endpoint_reads_the_seeded_account() {
    let sim = sim(true).await;
    let (c, _) = client(&sim, Environment::Sandbox);
    let creds = sim.credentials(Environment::Sandbox);

    let acc = c.verify_credentials().await.unwrap().unwrap();
    assert_eq!(acc.id, creds.account_id);
    assert!(shared::domain::SequenceAccountId::parse(&acc.id).is_ok());
    assert_eq!(c.sequence_accounts().await.unwrap().len(), 1);
    assert_eq!(c.get_sequence_account(&acc.id).await.unwrap().company_name, "Sim Sandbox Ltd");

    // The seeded sandbox also holds the hard cases (two more customers, more invoices and credit notes).
    let (n_customers, n_invoices) = sim.state.with(|w| (w.accounts[0].customers.len(), w.accounts[0].invoices.len()));
    let customers = c.all_customers(&CustomerQuery::default()).await.unwrap();
    assert_eq!(customers.len(), n_customers);
    assert!(n_customers > 30);
    let one = c.get_customer(&customers[0].id).await.unwrap();
    assert_eq!(one.id, customers[0].id);
    let mut registrations = 0;
    for cu in &customers {
        registrations += c.customer_tax_registrations(&cu.id).await.unwrap().len();
    }
    assert!(registrations > 0, "some EU/UK customers have VAT numbers");

    let products = c.all_products(&ProductQuery::default()).await.unwrap();
    assert_eq!(products.len(), 8);
    assert_eq!(c.get_product(&products[0].id).await.unwrap().name, products[0].name);

    let invoices = c.all_invoices(&InvoiceQuery::new()).await.unwrap();
    assert_eq!(invoices.len(), n_invoices);
    assert!(invoices.iter().any(|i| i.currency == "XBT"), "the unknown currency decodes as sent");
    for s in InvoiceStatus::KNOWN {
        assert!(invoices.iter().any(|i| &i.status == s), "seed has {s} invoices");
    }
    let inv = invoices.iter().find(|i| i.status == InvoiceStatus::Sent).unwrap();
    let full = c.get_invoice(&inv.id).await.unwrap();
    assert_eq!(full.net_total, inv.net_total);
    let lines = c.invoice_line_items(&inv.id).await.unwrap();
    assert!(!lines.is_empty());
    let net: Decimal = lines.iter().map(|l| l.net_total).sum();
    let tax: Decimal = lines.iter().map(|l| l.total_tax).sum();
    assert_eq!(net, inv.net_total);
    assert_eq!(tax, inv.total_tax);
    assert_eq!(inv.gross_total, inv.net_total + inv.total_tax);

    let notes = c.all_credit_notes(&CreditNoteQuery::new()).await.unwrap();
    assert!(!notes.is_empty());
    let cn = &notes[0];
    assert_eq!(c.get_credit_note(&cn.id).await.unwrap().id, cn.id);
    let cl = c.credit_note_line_items(&cn.id).await.unwrap();
    let cnet: Decimal = cl.iter().map(|l| l.net_total).sum();
    assert_eq!(cnet, cn.net_total);
    assert!(notes.iter().any(|n| n.invoice_id.is_none()), "credit notes from scratch");
    assert!(c.stats().requests > 10);
    sim.shutdown().await;
}

use shared::domain::Decimal;

#[tokio::test]
async fn unauthorized_is_its_own_error_and_not_retried() {
    let sim = sim(false).await;
    let bad = SequenceClient::with_options(
        &Credentials::new(sim.credentials(Environment::Sandbox).client_id, "wrong-secret-value"),
        ClientOptions::with_base_url(sim.sandbox_url()).clock(FakeClock::at(T0)),
    )
    .unwrap();
    let err = bad.verify_credentials().await.unwrap_err();
    assert!(matches!(err, SequenceError::Unauthorized { .. }), "{err:?}");
    assert_eq!(bad.stats().requests, 1);
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!format!("{err:?}").contains("wrong-secret-value"));

    // Sandbox credentials are refused by production, and vice versa.
    let sandbox = sim.credentials(Environment::Sandbox).to_client_credentials();
    let cross = SequenceClient::with_options(&sandbox, ClientOptions::with_base_url(sim.production_url())).unwrap();
    assert!(matches!(cross.verify_credentials().await, Err(SequenceError::Unauthorized { .. })));
    let (prod, _) = client(&sim, Environment::Production);
    assert_eq!(
        prod.verify_credentials().await.unwrap().unwrap().id,
        sim.credentials(Environment::Production).account_id
    );
}

#[tokio::test]
async fn throttling_honours_retry_after() {
    let sim = sim(false).await;
    let (c, clock) = client(&sim, Environment::Sandbox);
    sim.state.set_faults(Faults { throttle_next: 2, retry_after_secs: Some(7), ..Faults::default() });
    c.verify_credentials().await.unwrap();
    assert_eq!(clock.slept(), Duration::from_secs(14));
    let s = c.stats();
    assert_eq!((s.requests, s.throttled, s.retries), (3, 2, 2));
    assert_eq!(sim.state.stats().served_429, 2);

    // Persistent 429: gives up as Throttled after max_attempts.
    sim.state.set_faults(Faults { throttle_next: 100, retry_after_secs: Some(1), ..Faults::default() });
    let before = c.stats();
    let err = c.verify_credentials().await.unwrap_err();
    assert!(matches!(err, SequenceError::Throttled { attempts: 5, .. }), "{err:?}");
    assert!(err.is_retry_later());
    assert_eq!(c.stats().since(&before).requests, 5);

    // A Retry-After beyond the configured maximum is not waited for.
    sim.state.set_faults(Faults { throttle_next: 1, retry_after_secs: Some(3_600), ..Faults::default() });
    let slept = clock.slept();
    assert!(matches!(c.verify_credentials().await, Err(SequenceError::Throttled { attempts: 1, .. })));
    assert_eq!(clock.slept(), slept);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_given_up() {
    let sim = sim(false).await;
    let (c, clock) = client(&sim, Environment::Sandbox);
    sim.state.set_faults(Faults { fail_next: 2, fail_status: Some(500), ..Faults::default() });
    c.verify_credentials().await.unwrap();
    assert_eq!(c.stats().failures, 2);
    // Equal jitter: attempt 1 waits 250–500 ms, attempt 2 500–1000 ms.
    let slept = clock.slept();
    assert!(slept >= Duration::from_millis(750) && slept <= Duration::from_millis(1_500), "{slept:?}");

    sim.state.set_faults(Faults { fail_next: 100, ..Faults::default() });
    let before = c.stats();
    let err = c.verify_credentials().await.unwrap_err();
    match &err {
        SequenceError::Unavailable { status, attempts, .. } => {
            assert_eq!(*status, Some(503));
            assert_eq!(*attempts, 5);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.stats().since(&before).requests, 5);
    assert!(clock.slept().checked_sub(slept).unwrap() <= Duration::from_secs(4 * 20));
}

/// A query that sends a parameter value Sequence rejects.
struct Raw(&'static str, &'static str);
impl ListQuery for Raw {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        vec![(self.0, self.1.to_owned())]
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let sim = sim(false).await;
    let (c, clock) = client(&sim, Environment::Sandbox);
    let err = c.get_invoice("does-not-exist").await.unwrap_err();
    assert_eq!(
        err,
        SequenceError::Client {
            status: 404,
            error_type: Some("NotFound".into()),
            message: Some("invoice does-not-exist not found".into())
        }
    );
    let err = c.list_page::<Invoice>("/invoices", &Raw("sortOrder", "SIDEWAYS"), None).await.unwrap_err();
    assert!(matches!(err, SequenceError::Client { status: 400, .. }), "{err:?}");
    sim.state.set_faults(Faults { fail_next: 1, fail_status: Some(403), ..Faults::default() });
    let err = c.verify_credentials().await.unwrap_err();
    assert!(matches!(err, SequenceError::Client { status: 403, .. }), "{err:?}");
    assert!(!err.is_retry_later());
    assert_eq!(c.stats().requests, 3);
    assert_eq!(clock.slept(), Duration::ZERO);
}

#[tokio::test]
async fn repeated_page_token_stops_instead_of_looping() {
    let sim = sim(false).await;
    sim.state.bulk_invoices(sequence_sim::BulkInvoices { count: 30, ..Default::default() }).unwrap();
    let (c, _) = client(&sim, Environment::Sandbox);
    sim.state.update_faults(|f| f.repeat_page_tokens = true);
    let err = c.all_invoices(&InvoiceQuery::new().limit(10)).await.unwrap_err();
    assert_eq!(err, SequenceError::RepeatedPageToken { path: "/invoices".into() });
    assert!(c.stats().requests <= 3);
    // Page-at-a-time callers get the same protection.
    let first = c.list_invoices_page(&InvoiceQuery::new().limit(10), None).await.unwrap();
    let token = first.after.unwrap();
    let err = c.list_invoices_page(&InvoiceQuery::new().limit(10), Some(&token)).await.unwrap_err();
    assert!(matches!(err, SequenceError::RepeatedPageToken { .. }));
}

#[tokio::test]
async fn expired_page_token_is_a_client_error() {
    let sim = sim(false).await;
    sim.state.bulk_invoices(sequence_sim::BulkInvoices { count: 15, ..Default::default() }).unwrap();
    let (c, _) = client(&sim, Environment::Sandbox);
    let mut pager = c.invoices(&InvoiceQuery::new().limit(10));
    assert_eq!(pager.next_page().await.unwrap().unwrap().items.len(), 10);
    assert!(pager.next_token().is_some());
    sim.state.expire_page_tokens();
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, SequenceError::Client { status: 400, .. }), "{err:?}");
    // Restarting the walk works.
    assert_eq!(c.all_invoices(&InvoiceQuery::new().limit(10)).await.unwrap().len(), 15);
}

#[tokio::test]
async fn pager_walks_page_at_a_time() {
    let sim = sim(false).await;
    sim.state.bulk_invoices(sequence_sim::BulkInvoices { count: 25, ..Default::default() }).unwrap();
    let (c, _) = client(&sim, Environment::Sandbox);
    let mut pager = c.invoices(&InvoiceQuery::new().limit(10).ascending());
    let mut sizes = Vec::new();
    while let Some(p) = pager.next_page().await.unwrap() {
        assert_eq!(p.total_result_size, Some(25));
        sizes.push(p.items.len());
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    assert!(pager.next_page().await.unwrap().is_none());
}

#[tokio::test]
async fn never_sleeps_past_the_deadline() {
    let sim = sim(false).await;
    let (c, clock) = client(&sim, Environment::Sandbox);

    // Retry-After longer than the time left: given back at once, without sleeping, and with the
    // Retry-After, so the sync can re-enqueue after it rather than straight away.
    sim.state.set_faults(Faults { throttle_next: 5, retry_after_secs: Some(30), ..Faults::default() });
    let d = c.with_deadline(Some(clock.now_ms() + 10_000));
    let err = d.verify_credentials().await.unwrap_err();
    assert_eq!(err, SequenceError::Throttled { attempts: 1, retry_after: Some(Duration::from_secs(30)) });
    assert_eq!(clock.slept(), Duration::ZERO);

    // Backoff that fits is slept; the next one that does not is refused.
    sim.state.set_faults(Faults { fail_next: 10, ..Faults::default() });
    let d = c.with_deadline(Some(clock.now_ms() + 1_200));
    let err = d.verify_credentials().await.unwrap_err();
    assert!(matches!(err, SequenceError::OutOfTime { .. }), "{err:?}");
    assert!(clock.now_ms() <= T0 + 1_200);

    // A deadline already passed: no request at all.
    sim.state.set_faults(Faults::default());
    let before = c.stats().requests;
    let err = c.with_deadline(Some(clock.now_ms() - 1)).verify_credentials().await.unwrap_err();
    assert!(matches!(err, SequenceError::OutOfTime { .. }));
    assert_eq!(c.stats().requests, before);

    // The rate limiter never waits past the deadline either.
    let lclock = FakeClock::at(T0);
    let limited = SequenceClient::with_options(
        &sim.credentials(Environment::Sandbox).to_client_credentials(),
        ClientOptions::with_base_url(sim.sandbox_url())
            .clock(lclock.clone())
            .limiter(Arc::new(RateLimiter::with_burst(60, 1, lclock.clone()))),
    )
    .unwrap()
    .with_deadline(Some(T0 + 500));
    limited.verify_credentials().await.unwrap();
    assert_eq!(
        limited.verify_credentials().await.unwrap_err(),
        SequenceError::OutOfTime { needed: Duration::from_secs(1) }
    );
    assert_eq!(lclock.slept(), Duration::ZERO);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported_unavailable() {
    let sim = sim(false).await;
    let clock = FakeClock::at(T0);
    let mut opts = ClientOptions::with_base_url(sim.sandbox_url())
        .clock(clock.clone())
        .limiter(Arc::new(RateLimiter::with_burst(10_000, 100, clock.clone())));
    opts.request_timeout = Duration::from_millis(50);
    opts.max_attempts = 2;
    let c = SequenceClient::with_options(&sim.credentials(Environment::Sandbox).to_client_credentials(), opts).unwrap();
    sim.state.update_faults(|f| f.latency_ms = 400);
    let err = c.verify_credentials().await.unwrap_err();
    assert_eq!(err, SequenceError::Unavailable { status: None, reason: "timeout".into(), attempts: 2 });
    assert_eq!(c.stats().failures, 2);
}

#[tokio::test]
async fn unreachable_server_is_unavailable_not_unauthorized() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let clock = FakeClock::at(T0);
    let mut opts = ClientOptions::with_base_url(format!("http://127.0.0.1:{port}/sandbox/api")).clock(clock.clone());
    opts.max_attempts = 2;
    let c = SequenceClient::with_options(&Credentials::new("id", "secret-xyz"), opts).unwrap();
    let err = c.verify_credentials().await.unwrap_err();
    assert!(matches!(err, SequenceError::Unavailable { status: None, attempts: 2, .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-xyz"));
}

/// The recommended set-up for sync tests: the simulator and the client share one FakeClock, so the
/// simulator's 429s and the client's Retry-After waits happen in fake time.
#[tokio::test]
async fn simulator_rate_limit_and_client_share_a_fake_clock() {
    let clock = FakeClock::at(T0);
    let sim =
        Simulator::start(SimOptions { rate_limit_per_minute: Some(6), clock: clock.clone(), ..SimOptions::default() })
            .await
            .unwrap();
    let c = SequenceClient::with_options(
        &sim.credentials(Environment::Sandbox).to_client_credentials(),
        ClientOptions::with_base_url(sim.sandbox_url())
            .clock(clock.clone())
            .limiter(Arc::new(RateLimiter::with_burst(100_000, 10_000, clock.clone()))),
    )
    .unwrap();
    for _ in 0..10 {
        c.verify_credentials().await.unwrap();
    }
    let s = c.stats();
    assert!(s.throttled >= 4, "{s:?}");
    assert_eq!(s.requests, 10 + s.throttled);
    assert!(clock.slept() >= Duration::from_secs(4 * 10));
}
