//! The `sync` entry point driven by real event JSON (EventBridge scheduled event, EventBridge Scheduler
//! input, SQS batch) through `lambda_runtime::LambdaEvent`, against DynamoDB, Secrets Manager and SQS
//! in moto and the Sequence simulator: connect → scheduled dispatch → SQS message → one sync run →
//! the ledger holds the account.

mod common;

use bytes::Bytes;
use sequence_sim::{SeedSpec, SimOptions, Simulator};
use serde_json::Value;
use shared::config::Config;
use shared::domain::{Environment, Mode, OrgId};
use shared::org::Principal;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn lambda_event(payload: Value) -> lambda_runtime::LambdaEvent<Value> {
    let mut ctx = lambda_runtime::Context::default();
    ctx.request_id = format!("req-{}", shared::domain::new_uuid());
    ctx.deadline = u64::try_from(chrono::Utc::now().timestamp_millis() + 120_000).unwrap();
    lambda_runtime::LambdaEvent::new(payload, ctx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_dispatch_then_sqs_job_imports_the_account() {
    let sim = Simulator::start(SimOptions {
        data: Some(SeedSpec { customers: 20, invoices: 40, ..SeedSpec::default() }),
        rate_limit_per_minute: None,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let mut config = Config::defaults();
    config.secret_prefix = format!("test-{}", shared::domain::new_uuid());
    config.sequence_sandbox_url = sim.sandbox_url();
    config.sequence_production_url = sim.production_url();
    config.sequence_requests_per_minute = 100_000;
    let Some((app, queue_url)) = common::moto_app(config).await else { return };

    // Part 1 through the console handler: the secret lands in Secrets Manager (moto)
    let who = Principal { org: OrgId::parse("org_ev").unwrap(), mode: Mode::Test, actor: "t".into() };
    let c = sim.credentials(Environment::Sandbox);
    let body = serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret}).to_string();
    let req = http::Request::builder().method("POST").uri("/v1/sequence/connections").body(Bytes::from(body)).unwrap();
    let resp = connect::handle(&app, who.clone(), req).await;
    assert_eq!(resp.status(), 201, "{}", String::from_utf8_lossy(resp.body()));

    // the classic EventBridge scheduled event and the Scheduler input both dispatch
    let tick: Value = serde_json::from_str(&fixture("eventbridge_scheduled.json")).unwrap();
    let out = sync::handle_lambda(&sync::State::of(&app), lambda_event(tick)).await.unwrap();
    assert_eq!(out["enqueued"], 1, "{out}");
    let again: Value = serde_json::from_str(&fixture("scheduler_dispatch.json")).unwrap();
    let out = sync::handle_lambda(&sync::State::of(&app), lambda_event(again)).await.unwrap();
    assert_eq!(out["enqueued"], 0, "the connection moved to its next slot: {out}");

    // the SQS message the dispatcher sent, delivered as an SQS event
    let msgs = app.store.sqs.receive_message().queue_url(&queue_url).send().await.unwrap();
    let body = msgs.messages()[0].body().unwrap().to_owned();
    let event = fixture("sqs_sync_job.json").replace("\"{{BODY}}\"", &serde_json::to_string(&body).unwrap());
    let out =
        sync::handle_lambda(&sync::State::of(&app), lambda_event(serde_json::from_str(&event).unwrap())).await.unwrap();
    assert_eq!(out["outcomes"][0]["outcome"], "done", "{out}");

    // the run is recorded on the connection and the ledger holds the account's documents
    let conns = shared::connection::list(&app.store, &who.org).await.unwrap();
    let last = conns[0].value.last_sync.clone().unwrap();
    assert!(last["summary"]["created"].as_u64().unwrap() > 40, "{last}");
    let ledger = shared::ledger::Ledger::new(&app.store, who.org.clone(), conns[0].value.connection_id.clone());
    let page = ledger.query_transactions(&shared::ledger::TxnFilter::default(), None, 100).await.unwrap();
    assert!(page.items.len() >= 30, "{} transactions", page.items.len());
    // the running totals went into DynamoDB in the same transactions, and the reports read them there
    let kept = ledger.all_counters().await.unwrap();
    assert!(!kept.is_empty() && ledger.counters_ready().await.unwrap());
    assert_eq!(kept, ledger.recomputed_counters().await.unwrap(), "counters kept in DynamoDB = recomputation");
    for path in ["/v1/exposure", "/v1/reports/filing?jurisdiction=US-CA&period=2026"] {
        let req = http::Request::builder().uri(path).body(Bytes::new()).unwrap();
        let resp = connect::handle(&app, who.clone(), req).await;
        assert_eq!(resp.status(), 200, "{path}: {}", String::from_utf8_lossy(resp.body()));
    }

    // a malformed event is an error (SQS would redeliver it, then dead-letter it)
    let bad = serde_json::json!({"Records": [{"body": "not json", "eventSource": "aws:sqs"}]});
    assert!(sync::handle_lambda(&sync::State::of(&app), lambda_event(bad)).await.is_err());
}

/// How many messages of the queue are still held back by their delay (moto tracks `DelaySeconds`).
async fn delayed(app: &shared::app::App<shared::aws::AwsStores>, queue_url: &str) -> u64 {
    let attrs = app
        .store
        .sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap();
    attrs
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_run_is_continued_through_sqs_after_retry_after() {
    let sim = Simulator::start(SimOptions {
        data: Some(SeedSpec { customers: 3, invoices: 5, ..SeedSpec::default() }),
        rate_limit_per_minute: None,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let mut config = Config::defaults();
    config.secret_prefix = format!("test-{}", shared::domain::new_uuid());
    config.sequence_sandbox_url = sim.sandbox_url();
    let Some((app, queue_url)) = common::moto_app(config).await else { return };
    let who = Principal { org: OrgId::parse("org_throttled").unwrap(), mode: Mode::Test, actor: "t".into() };
    let c = sim.credentials(Environment::Sandbox);
    let body = serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret}).to_string();
    let req = http::Request::builder().method("POST").uri("/v1/sequence/connections").body(Bytes::from(body)).unwrap();
    let resp = connect::handle(&app, who.clone(), req).await;
    assert_eq!(resp.status(), 201, "{}", String::from_utf8_lossy(resp.body()));
    let conn: Value = serde_json::from_slice(resp.body()).unwrap();
    let job = shared::queue::SyncMessage {
        org_id: who.org.clone(),
        connection_id: shared::domain::ConnectionId::parse(conn["id"].as_str().unwrap()).unwrap(),
        reason: "manual".into(),
        dedup_id: "m".into(),
        targets: Vec::new(),
    };

    // Sequence answers 429 with Retry-After: 120 on every call: the run checkpoints and its
    // continuation is sent with DelaySeconds=120 — in the queue, but not receivable yet
    sim.state.set_faults(sequence_sim::Faults {
        throttle_next: u32::MAX,
        retry_after_secs: Some(120),
        ..Default::default()
    });
    let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
    let report = sync::run_job(&sync::State::of(&app), &job, "req-throttled", deadline).await.unwrap().unwrap();
    assert_eq!(report.outcome, shared::sync::Outcome::MoreWork { retry_after_ms: Some(120_000) });
    assert_eq!(delayed(&app, &queue_url).await, 1, "the continuation waits out the Retry-After");
    let got = app.store.sqs.receive_message().queue_url(&queue_url).send().await.unwrap();
    assert!(got.messages().is_empty(), "not deliverable before its delay");

    // a wait beyond SQS's 15 minutes is cut to 900 s (SQS refuses DelaySeconds > 900)
    let queue = shared::aws::sync_queue(&app.store, &app.config).unwrap();
    queue.enqueue_after(job.clone(), std::time::Duration::from_secs(3_600)).await.unwrap();
    assert_eq!(delayed(&app, &queue_url).await, 2);
    // and a delay really ends: a 1-second one is delivered after it, not before
    queue.enqueue_after(job.clone(), std::time::Duration::from_millis(900)).await.unwrap();
    let got = app.store.sqs.receive_message().queue_url(&queue_url).send().await.unwrap();
    assert!(got.messages().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    let got = app.store.sqs.receive_message().queue_url(&queue_url).send().await.unwrap();
    assert_eq!(got.messages().len(), 1);
    let body: shared::queue::SyncMessage = serde_json::from_str(got.messages()[0].body().unwrap()).unwrap();
    assert_eq!(body.connection_id, job.connection_id);
}
