//! What a failed or throttled run does to a connection, end to end: the real Sequence client against
//! the simulator, the embedded store, a fake clock, and the dispatcher driving every run as the
//! schedule would.
//!
//! - Sequence answering 500 for hours: the connection stays `active` and scheduled, retried at
//!   5 min, 10 min, … up to 6 h, every failure counted in the metric; when Sequence recovers the next
//!   due run succeeds by itself and clears the failure state.
//! - A refused request (403, a `Failed` outcome) backs off the same way instead of needing a human.
//! - 401 after re-reading the secret still makes the connection `needs_attention`.
//! - 429 with `Retry-After` queues the continuation after that delay (cut to 15 minutes).
//! - The dispatcher moving a connection after its run already failed keeps the backoff (one rule).

use sequence_sim::{Faults, SeedSpec, SimHandle, SimOptions, Simulator};
use shared::app::App;
use shared::clock::{Clock, FakeClock};
use shared::config::Config;
use shared::connection::{self, ConnectionRecord, ConnectionStatus, StoredCredentials};
use shared::domain::{ConnectionId, Environment, OrgId, SequenceAccountId};
use shared::ledger::{Ledger, TxnFilter};
use shared::queue::{MemoryQueue, QueueFuture, SyncMessage, SyncQueue};
use shared::store::{EmbeddedStore, Expect, ItemStore, SecretStore};
use shared::sync::{Outcome, RunReport};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MIN: i64 = 60_000;
/// The Lambda's budget for one run (the function's timeout).
const LAMBDA_MS: i64 = 300_000;

/// Every log line of this test binary (the metric lines are debug lines outside Lambda). One global
/// subscriber: per-thread ones race with tracing's callsite cache when tests run in parallel, so each
/// test picks its own connection's lines instead.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> &'static Logs {
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
            logs
        })
    }

    /// The EMF documents of `conn`'s runs so far, oldest first.
    fn metrics(&self, conn: &ConnectionId) -> Vec<serde_json::Value> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter_map(|l| l.split_once("metrics=").map(|(_, rest)| rest))
            .filter_map(|rest| serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>().next())
            .filter_map(Result::ok)
            .filter(|m| m["connection"] == conn.as_str())
            .collect()
    }
}

struct Fixture {
    app: App<EmbeddedStore>,
    queue: Arc<MemoryQueue>,
    clock: Arc<FakeClock>,
    sim: SimHandle,
    org: OrgId,
    conn: ConnectionId,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A connection `conn_{name}` as `connect` leaves it (active, due now, its secret stored) to a seeded
/// simulator.
async fn fixture(name: &str) -> Fixture {
    let clock = FakeClock::at(1_795_687_200_000);
    let sim = Simulator::start(SimOptions {
        data: Some(SeedSpec { customers: 4, invoices: 12, ..SeedSpec::default() }),
        rate_limit_per_minute: None,
        clock: clock.clone(),
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let mut config = Config::defaults();
    config.sequence_sandbox_url = sim.sandbox_url();
    config.sequence_requests_per_minute = 100_000;
    let dir = std::env::temp_dir().join(format!("sync-failures-{}", shared::domain::new_uuid()));
    let queue = Arc::new(MemoryQueue::default());
    let app = App::new(config, EmbeddedStore::open(&dir).unwrap(), clock.clone()).with_queue(queue.clone());
    let (org, conn) = (OrgId::parse("org_f").unwrap(), ConnectionId::parse(format!("conn_{name}")).unwrap());
    let creds = sim.credentials(Environment::Sandbox);
    let secret_name = shared::store::secrets::sequence_secret_name(&app.config.secret_prefix, &org, &conn);
    let stored = StoredCredentials { client_id: creds.client_id.clone(), client_secret: creds.client_secret.clone() };
    app.store.put_secret(&secret_name, &stored.to_secret().unwrap(), &org).await.unwrap();
    let rec = ConnectionRecord::active(
        conn.clone(),
        org.clone(),
        Environment::Sandbox,
        SequenceAccountId::parse(creds.account_id.as_str()).unwrap(),
        secret_name,
        "t",
        clock.now_ms(),
    );
    app.store.write(vec![rec.put(Expect::Absent).unwrap()]).await.unwrap();
    Fixture { app, queue, clock, sim, org, conn, dir }
}

impl Fixture {
    async fn connection(&self) -> ConnectionRecord {
        connection::get(&self.app.store, &self.org, &self.conn).await.unwrap().unwrap().value
    }

    /// One scheduled tick at the current time, then every job it queued run as the Lambda would.
    async fn tick(&self) -> Vec<RunReport> {
        let d = sync::dispatch(&sync::State::of(&self.app)).await.unwrap();
        assert_eq!(d.enqueued, d.due);
        let mut reports = Vec::new();
        for (job, delay) in self.queue.take() {
            assert_eq!(delay, Duration::ZERO, "scheduled jobs are not delayed");
            reports.extend(self.run(&job).await);
        }
        reports
    }

    async fn run(&self, job: &SyncMessage) -> Option<RunReport> {
        let deadline = self.clock.now_ms() + LAMBDA_MS;
        sync::run_job(&sync::State::of(&self.app), job, &format!("holder-{}", self.clock.now_ms()), deadline)
            .await
            .unwrap()
    }

    fn job(&self) -> SyncMessage {
        SyncMessage {
            org_id: self.org.clone(),
            connection_id: self.conn.clone(),
            reason: "manual".into(),
            dedup_id: "m".into(),
            targets: Vec::new(),
        }
    }

    async fn transactions(&self) -> usize {
        let ledger = Ledger::new(&self.app.store, self.org.clone(), self.conn.clone());
        ledger.query_transactions(&TxnFilter::default(), None, 500).await.unwrap().items.len()
    }
}

#[tokio::test]
async fn hours_of_500s_keep_the_connection_scheduled_with_growing_backoff_until_it_recovers_by_itself() {
    let logs = Logs::capture();
    let f = fixture("hours").await;
    f.sim.state.set_faults(Faults { fail_next: u32::MAX, fail_status: Some(500), ..Faults::default() });
    let outage_start = f.clock.now_ms();
    let mut waits_min = Vec::new();
    let mut runs_in_first_hour = 0;
    // the dispatcher at each due time, until the backoff has reached its cap twice
    while waits_min.len() < 9 {
        let due = f.connection().await.next_sync_at_ms.expect("still scheduled");
        if due - MIN > f.clock.now_ms() {
            // a tick a minute before the retry time queues nothing
            f.clock.set(due - MIN);
            assert!(f.tick().await.is_empty(), "retried before its backoff ended");
        }
        f.clock.set(due);
        if due < outage_start + 60 * MIN {
            runs_in_first_hour += 1;
        }
        let reports = f.tick().await;
        assert_eq!(reports.len(), 1, "the due connection ran");
        assert!(matches!(reports[0].outcome, Outcome::SourceUnavailable { .. }), "{:?}", reports[0].outcome);
        let c = f.connection().await;
        assert_eq!(c.status, ConnectionStatus::Active, "a failing connection stays active");
        assert_eq!(c.status_reason, None);
        let failure = c.sync_failure.clone().expect("the failure is on the record");
        assert_eq!(failure.consecutive as usize, waits_min.len() + 1);
        assert_eq!(failure.since_ms / MIN, outage_start / MIN, "failing since the first failed run");
        assert!(failure.last_error.contains("500"), "{}", failure.last_error);
        waits_min.push((c.next_sync_at_ms.unwrap() - failure.last_at_ms) / MIN);
        // the console sees the same: since when, why, when it is retried
        let view = connect::connections::view(&c);
        assert_eq!(view["sync_failure"]["retry_at_ms"], c.next_sync_at_ms.unwrap());
        assert_eq!(view["sync_failure"]["consecutive_failures"], failure.consecutive);
    }
    assert_eq!(waits_min, vec![5, 10, 20, 40, 80, 160, 320, 360, 360]);
    assert_eq!(runs_in_first_hour, 4, "an hour of 500s: retried at 0, 5, 15 and 35 minutes");
    assert_eq!(f.transactions().await, 0);
    let metrics = logs.metrics(&f.conn);
    let failed: Vec<u64> = metrics.iter().map(|m| m["RunFailed"].as_u64().unwrap()).collect();
    assert_eq!(failed, vec![1; 9], "every failed run is counted");
    assert_eq!(metrics.last().unwrap()["ConsecutiveFailures"], 9);

    // Sequence recovers: the next due run succeeds by itself and clears the failure state
    f.sim.state.set_faults(Faults::default());
    let due = f.connection().await.next_sync_at_ms.unwrap();
    f.clock.set(due);
    let reports = f.tick().await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcome, Outcome::Done);
    let c = f.connection().await;
    assert_eq!((c.status, c.sync_failure.as_ref()), (ConnectionStatus::Active, None));
    assert_eq!(c.next_sync_at_ms, Some(due + 14 * MIN), "back on the 15-minute schedule (less the tick tolerance)");
    assert!(connect::connections::view(&c)["sync_failure"].is_null());
    assert!(f.transactions().await > 0, "the account was imported");
    let metrics = logs.metrics(&f.conn);
    assert_eq!((metrics[9]["RunFailed"].as_u64(), metrics[9]["ConsecutiveFailures"].as_u64()), (Some(0), Some(0)));
}

#[tokio::test]
async fn a_refused_request_backs_off_instead_of_needing_attention() {
    let f = fixture("refused").await;
    f.sim.state.set_faults(Faults { fail_next: u32::MAX, fail_status: Some(403), ..Faults::default() });
    let reports = f.tick().await;
    assert!(matches!(reports[0].outcome, Outcome::Failed { .. }), "{:?}", reports[0].outcome);
    let c = f.connection().await;
    assert_eq!(c.status, ConnectionStatus::Active);
    let failure = c.sync_failure.clone().unwrap();
    assert_eq!(c.next_sync_at_ms, Some(failure.last_at_ms + 5 * MIN));
    // still in the dispatcher's index: due again once the backoff has passed
    f.clock.set(failure.last_at_ms + 5 * MIN);
    f.sim.state.set_faults(Faults::default());
    let reports = f.tick().await;
    assert_eq!(reports[0].outcome, Outcome::Done);
    assert_eq!(f.connection().await.sync_failure, None);
}

#[tokio::test]
async fn a_401_after_re_reading_the_secret_still_needs_attention() {
    let logs = Logs::capture();
    let f = fixture("unauthorized").await;
    let c = f.connection().await;
    let wrong = StoredCredentials {
        client_id: f.sim.credentials(Environment::Sandbox).client_id,
        client_secret: "rotated-away".into(),
    };
    f.app.store.put_secret(&c.secret_name, &wrong.to_secret().unwrap(), &f.org).await.unwrap();
    let reports = f.tick().await;
    assert_eq!(reports[0].outcome, Outcome::Unauthorized);
    let c = f.connection().await;
    assert_eq!(c.status, ConnectionStatus::NeedsAttention);
    assert!(c.status_reason.unwrap().contains("rejected the stored Client ID or Secret"));
    assert!(f.sim.state.stats().served_401 >= 1);
    // out of the schedule: retrying cannot help until the credentials are rotated
    f.clock.advance(Duration::from_secs(24 * 3600));
    assert!(f.tick().await.is_empty());
    assert_eq!(logs.metrics(&f.conn)[0]["RunFailed"], 1);
}

#[tokio::test]
async fn a_throttled_run_continues_after_retry_after_cut_to_fifteen_minutes() {
    let f = fixture("throttled").await;
    f.sim.state.set_faults(Faults { throttle_next: u32::MAX, retry_after_secs: Some(120), ..Faults::default() });
    let report = f.run(&f.job()).await.unwrap();
    assert_eq!(report.outcome, Outcome::MoreWork { retry_after_ms: Some(120_000) });
    let queued = f.queue.take();
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].0.reason.as_str(), queued[0].1), ("continue", Duration::from_secs(120)));
    let c = f.connection().await;
    assert_eq!((c.status, c.sync_failure.as_ref()), (ConnectionStatus::Active, None), "throttling is not a failure");
    assert_eq!(c.last_sync.unwrap()["requeued_after_ms"], 120_000);

    f.sim.state.set_faults(Faults { throttle_next: u32::MAX, retry_after_secs: Some(3_600), ..Faults::default() });
    let report = f.run(&f.job()).await.unwrap();
    assert_eq!(report.outcome, Outcome::MoreWork { retry_after_ms: Some(3_600_000) });
    assert_eq!(f.queue.take()[0].1, Duration::from_secs(900), "cut to the queue's maximum");
}

/// A queue that runs each job to completion inside `enqueue`, so the run's write lands *before* the
/// dispatcher moves the connection to its next slot (a fast local worker or Lambda can do that).
#[derive(Default)]
struct InlineQueue {
    app: std::sync::OnceLock<App<EmbeddedStore>>,
    deadline_ms: std::sync::atomic::AtomicI64,
}

impl SyncQueue for InlineQueue {
    fn enqueue_after(&self, job: SyncMessage, _delay: Duration) -> QueueFuture<'_> {
        Box::pin(async move {
            let app = self.app.get().expect("wired");
            let deadline = self.deadline_ms.load(std::sync::atomic::Ordering::SeqCst);
            sync::run_job(&sync::State::of(app), &job, "inline", deadline).await.expect("run recorded");
            Ok(())
        })
    }
}

#[tokio::test]
async fn the_dispatcher_moving_a_connection_after_its_run_failed_keeps_the_backoff() {
    let f = fixture("inline").await;
    let queue = Arc::new(InlineQueue::default());
    let app = f.app.clone().with_queue(queue.clone());
    assert!(queue.app.set(app.clone()).is_ok());
    f.sim.state.set_faults(Faults { fail_next: u32::MAX, fail_status: Some(500), ..Faults::default() });
    for expected_min in [5, 10, 20] {
        let due = f.connection().await.next_sync_at_ms.unwrap();
        f.clock.set(due);
        queue.deadline_ms.store(due + LAMBDA_MS, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(sync::dispatch(&sync::State::of(&app)).await.unwrap().enqueued, 1);
        let c = f.connection().await;
        let failure = c.sync_failure.clone().expect("the run's failure survived the dispatcher's write");
        // the dispatcher applied the same rule from its own clock reading (the tick time), not the interval
        assert_eq!(c.next_sync_at_ms, Some(due + expected_min * MIN), "after {} failures", failure.consecutive);
    }
}
