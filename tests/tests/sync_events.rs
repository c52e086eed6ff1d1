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
    let out = sync::handle_lambda(&app, lambda_event(tick)).await.unwrap();
    assert_eq!(out["enqueued"], 1, "{out}");
    let again: Value = serde_json::from_str(&fixture("scheduler_dispatch.json")).unwrap();
    let out = sync::handle_lambda(&app, lambda_event(again)).await.unwrap();
    assert_eq!(out["enqueued"], 0, "the connection moved to its next slot: {out}");

    // the SQS message the dispatcher sent, delivered as an SQS event
    let msgs = app.store.sqs.receive_message().queue_url(&queue_url).send().await.unwrap();
    let body = msgs.messages()[0].body().unwrap().to_owned();
    let event = fixture("sqs_sync_job.json").replace("\"{{BODY}}\"", &serde_json::to_string(&body).unwrap());
    let out = sync::handle_lambda(&app, lambda_event(serde_json::from_str(&event).unwrap())).await.unwrap();
    assert_eq!(out["outcomes"][0]["outcome"], "done", "{out}");

    // the run is recorded on the connection and the ledger holds the account's documents
    let conns = shared::connection::list(&app.store, &who.org).await.unwrap();
    let last = conns[0].value.last_sync.clone().unwrap();
    assert!(last["summary"]["created"].as_u64().unwrap() > 40, "{last}");
    let ledger = shared::ledger::Ledger::new(&app.store, who.org.clone(), conns[0].value.connection_id.clone());
    let page = ledger.query_transactions(&shared::ledger::TxnFilter::default(), None, 100).await.unwrap();
    assert!(page.items.len() >= 30, "{} transactions", page.items.len());

    // a malformed event is an error (SQS would redeliver it, then dead-letter it)
    let bad = serde_json::json!({"Records": [{"body": "not json", "eventSource": "aws:sqs"}]});
    assert!(sync::handle_lambda(&app, lambda_event(bad)).await.is_err());
}
