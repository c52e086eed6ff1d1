//! Source failures and time: throttling with `retry_after`, deadlines mid-stream, unavailable,
//! unauthorized and client errors.

mod sync_common;

use sequence_sim::fake::FakeSource;
use shared::clock::{Clock, FakeClock};
use shared::layout;
use shared::store::record;
use shared::sync::cursor::StreamCursor;
use shared::sync::source::{InvoiceStatus, SourceError};
use shared::sync::{CallerAction, Outcome, run};
use std::time::Duration;
use sync_common::*;

#[tokio::test]
async fn throttling_honours_retry_after() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    src.throttle_next(2, Some(Duration::from_secs(3)));
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert_eq!(r.summary.throttled, 2);
    assert_eq!(clock.slept(), Duration::from_secs(6));
    assert_eq!(r.summary.slept_ms, 6_000);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}

#[tokio::test]
async fn throttling_never_sleeps_past_the_deadline() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    // products + customers go through, then Sequence asks for a 20-minute pause
    src.on_call(3, |_| {});
    src.fail_call(3, SourceError::Throttled { retry_after: Some(Duration::from_secs(1_200)) });
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::MoreWork { retry_after_ms: Some(1_200_000) });
    assert_eq!(r.outcome.action(), CallerAction::Reenqueue);
    assert_eq!(clock.slept(), Duration::ZERO);
    assert!(r.summary.more_work);
    clock.advance(Duration::from_secs(1_200));
    let reports = run_until_settled(&store, &src, &clock, "org1", "c1", MIN15).await;
    assert_eq!(reports.last().unwrap().outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}

#[tokio::test]
async fn deadline_mid_stream_checkpoints_and_reruns_converge_to_the_source() {
    let store = TestStore::new();
    let src = FakeSource::new(4);
    seed_small(&src);
    for i in 0..40u32 {
        let status = if i % 7 == 3 { InvoiceStatus::Voided } else { InvoiceStatus::Sent };
        let issued = day(1, 25) + chrono::Days::new(u64::from(i));
        add_invoice(&src, invoice(&format!("bulk-{i:02}"), status, 1_000 + i64::from(i / 3), issued, 2_000), 2);
    }
    let clock = FakeClock::at(t0());
    src.set_latency(clock.clone(), Duration::from_millis(250));
    let margin = shared::sync::SyncSettings::default().safety_margin;
    // room for ~12 calls per invocation; slices of 5 days keep a slice's re-paging below that
    let make = || {
        let mut j = job("org1", "c1", &clock, margin + Duration::from_secs(3));
        j.settings.slice_days = 5;
        j.settings.history_start = day(1, 1);
        j
    };
    let reports = run_jobs_until_settled(&store, &src, &clock, make).await;
    let more = reports.iter().filter(|r| matches!(r.outcome, Outcome::MoreWork { .. })).count();
    assert!(more >= 3, "expected several invocations, got {more}");
    assert_eq!(reports.last().unwrap().outcome, Outcome::Done);
    for r in &reports {
        assert!(r.summary.duration_ms <= 3_000 + 250, "stopped before deadline − margin: {}", r.summary.duration_ms);
    }
    assert_ledger_matches(&store, "org1", "c1", &src).await;
    // the resumed cycle kept the first invocation's signpost: a new run sees no change
    clock.advance(MIN15);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!((r.outcome, r.summary.created, r.summary.updated), (Outcome::Done, 0, 0));
}

async fn invoices_cursor(store: &TestStore) -> Option<StreamCursor> {
    record::get(store, &layout::cursor_key(&org("org1"), &conn("c1"), "invoices")).await.unwrap().map(|v| v.value)
}

#[tokio::test]
async fn unavailable_stops_with_the_cursor_unchanged() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    let before = invoices_cursor(&store).await;
    assert!(before.is_some());
    src.with_data(|d| d.invoice_mut("inv-0").unwrap().updated_at += chrono::Duration::seconds(1));
    clock.advance(MIN15);
    src.reset_counts();
    // products 1, customers 2, invoices FINAL page 3 → 5xx
    src.fail_call(3, SourceError::Unavailable("503".into()));
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::SourceUnavailable { message: "503".into() });
    assert_eq!(r.outcome.action(), CallerAction::RetryWithBackoff);
    assert_eq!(invoices_cursor(&store).await, before, "cursor unchanged");
    // the lease was released: the next schedule proceeds
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
}

#[tokio::test]
async fn unauthorized_and_client_errors_are_typed_outcomes() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    src.fail_call(1, SourceError::Unauthorized);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Unauthorized);
    assert_eq!(r.outcome.action(), CallerAction::ReReadSecretAndRetryOnce);
    assert_eq!(r.summary.requests, 1, "no retry of a 401 inside the run");
    src.fail_call(4, SourceError::Client("400 invalid filter".into()));
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert!(matches!(r.outcome, Outcome::Failed { .. }), "{:?}", r.outcome);
    assert_eq!(r.outcome.action(), CallerAction::RetryWithBackoff);
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, MIN15)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
    let _ = clock.now_ms();
}

#[tokio::test]
async fn a_deadline_already_inside_the_safety_margin_fails_instead_of_spinning() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    let r = run(&store, &src, clock.as_ref(), &job("org1", "c1", &clock, Duration::from_secs(5))).await.unwrap();
    assert!(matches!(r.outcome, Outcome::Failed { .. }), "{:?}", r.outcome);
    assert_eq!((src.calls(), store.write_attempts()), (0, 0), "no lease taken, no call made");
}

#[tokio::test]
async fn an_expired_page_token_restarts_the_slice_once() {
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    let clock = FakeClock::at(t0());
    let expired = || SourceError::Client("400 Pagination token has expired".into());
    // invoices: catch-all slice (1), slice from 2026-03-01 page 1 (2), page 2 (3) → refused
    src.fail_kind_call(sequence_sim::fake::CallKind::Invoices, 3, expired());
    let mut j = job("org1", "c1", &clock, MIN15);
    j.settings.history_start = day(3, 1);
    let r = run(&store, &src, clock.as_ref(), &j).await.unwrap();
    assert_eq!(r.outcome, Outcome::Done);
    assert_ledger_matches(&store, "org1", "c1", &src).await;
    // twice in a row on the same listing is a real client error: fail fast
    let store = TestStore::new();
    let src = FakeSource::new(3);
    seed_small(&src);
    src.fail_kind_call(sequence_sim::fake::CallKind::Invoices, 3, expired());
    src.fail_kind_call(sequence_sim::fake::CallKind::Invoices, 5, expired());
    let mut j = job("org1", "c1", &clock, MIN15);
    j.settings.history_start = day(3, 1);
    let r = run(&store, &src, clock.as_ref(), &j).await.unwrap();
    assert!(matches!(r.outcome, Outcome::Failed { .. }), "{:?}", r.outcome);
}
