//! The Lambda entry points driven by real API Gateway v2 event JSON (tests/fixtures) through
//! `lambda_http`, against DynamoDB and SQS in moto — the exact code path the mains run.

mod common;

use shared::app::App;
use shared::aws::AwsStores;
use shared::config::Config;
use shared::connection::ConnectionRecord;
use shared::domain::{ConnectionId, Environment, Mode, OrgId, SequenceAccountId};
use shared::store::{Expect, ItemStore};

async fn moto_app() -> Option<(App<AwsStores>, String)> {
    common::moto_app(Config::defaults()).await
}

fn event(name: &str, replace: &[(&str, &str)]) -> lambda_http::Request {
    let mut json = std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    for (from, to) in replace {
        json = json.replace(from, to);
    }
    lambda_http::request::from_str(&json).unwrap()
}

fn body(resp: &lambda_http::Response<lambda_http::Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap()
}

#[tokio::test]
async fn console_event_with_jwt_claims_reaches_the_org_from_the_claims() {
    let Some((app, _)) = moto_app().await else { return };
    let resp = connect::handle_event(&app, event("apigw_v2_console_claims.json", &[])).await;
    assert_eq!(resp.status(), 200);
    let org = body(&resp);
    assert_eq!(org["org_id"], "org_fixture");
    assert_eq!(org["mode"], "test");
    // the claim's mode is fixed on first sight: the same org claiming live is refused
    let resp = connect::handle_event(&app, event("apigw_v2_console_claims.json", &[("\"test\"", "\"live\"")])).await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn console_event_without_claims_is_refused() {
    let Some((app, _)) = moto_app().await else { return };
    let resp = connect::handle_event(&app, event("apigw_v2_console_no_claims.json", &[])).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(body(&resp)["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn sync_now_event_sends_one_sqs_message() {
    let Some((app, queue_url)) = moto_app().await else { return };
    let org = OrgId::parse("org_fixture").unwrap();
    let rec = ConnectionRecord {
        next_sync_at_ms: None,
        ..ConnectionRecord::active(
            ConnectionId::parse("conn_fixture").unwrap(),
            org.clone(),
            Environment::Sandbox,
            SequenceAccountId::parse("acc").unwrap(),
            "x".into(),
            "t",
            0,
        )
    };
    app.store.write(vec![rec.put(Expect::Absent).unwrap()]).await.unwrap();
    let resp = connect::handle_event(&app, event("apigw_v2_console_sync_now.json", &[])).await;
    assert_eq!(resp.status(), 202, "{:?}", body(&resp));
    let got = app.store.sqs.receive_message().queue_url(&queue_url).send().await.unwrap();
    let msgs = got.messages();
    assert_eq!(msgs.len(), 1);
    let job: shared::queue::SyncMessage = serde_json::from_str(msgs[0].body().unwrap()).unwrap();
    assert_eq!(
        (job.org_id.as_str(), job.connection_id.as_str(), job.reason.as_str()),
        ("org_fixture", "conn_fixture", "manual")
    );
}

#[tokio::test]
async fn tax_verify_event_authenticates_by_api_key() {
    let Some((app, _)) = moto_app().await else { return };
    let (key, parsed) = shared::api_key::generate(Mode::Live, &app.key_pepper);
    shared::api_key::create(
        &app.store,
        &parsed,
        &OrgId::parse("org_live").unwrap(),
        &ConnectionId::parse("conn_l").unwrap(),
        "t",
    )
    .await
    .unwrap();
    // As the tax main builds it: DynamoDB alone, no secret store.
    let state = tax::State::new(app.config.clone(), app.store.items.clone(), app.clock.clone(), app.key_pepper.clone())
        .unwrap();
    let resp = tax::handle_event(&state, event("apigw_v2_tax_verify.json", &[("{{API_KEY}}", &key)])).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        body(&resp),
        serde_json::json!({"organization_id": "org_live", "livemode": true, "connection_id": "conn_l"})
    );
    let resp = tax::handle_event(&state, event("apigw_v2_tax_verify.json", &[])).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(body(&resp)["code"], "unauthorized_access");
}

#[tokio::test]
async fn webhook_event_is_verified_remembered_and_queues_one_targeted_job() {
    let Some((app, queue_url)) = moto_app().await else { return };
    let (org, conn) = (OrgId::parse("org_hook").unwrap(), ConnectionId::parse("conn_hook").unwrap());
    let token = "ab".repeat(32);
    let secret_name = format!("test-{}/sequence/org_hook/conn_hook/webhook", shared::domain::new_uuid());
    shared::store::SecretStore::put_secret(&app.store, &secret_name, &shared::store::SecretValue::new("whsec_t"), &org)
        .await
        .unwrap();
    let route = shared::connection::WebhookRoute {
        org_id: org.clone(),
        connection_id: conn.clone(),
        sequence_account_id: SequenceAccountId::parse("acc-hook").unwrap(),
        secret_name,
    };
    let put = shared::store::record::put(shared::layout::webhook_route_key(&token), &route, Expect::Any).unwrap();
    app.store.write(vec![put]).await.unwrap();
    // As the webhook main builds it.
    let state = webhook::State::of(&app);
    let raw = r#"{"notificationType":"INVOICE_UPDATED","sequenceAccountId":"acc-hook","resourceType":"INVOICE","resourceId":"inv-7"}"#;
    let now = chrono::Utc::now().timestamp_millis();
    let signature = shared::webhook::sign(b"whsec_t", now, raw.as_bytes());
    let escaped = raw.replace('"', "\\\"");
    let delivery = || {
        event("apigw_v2_webhook.json", &[("{{TOKEN}}", &token), ("{{SIGNATURE}}", &signature), ("{{BODY}}", &escaped)])
    };
    let resp = webhook::handle_event(&state, delivery()).await;
    assert_eq!(resp.status(), 202, "{:?}", body(&resp));
    assert_eq!(webhook::handle_event(&state, delivery()).await.status(), 409, "the same delivery again: a replay");
    let forged = event(
        "apigw_v2_webhook.json",
        &[
            ("{{TOKEN}}", &token),
            ("{{SIGNATURE}}", &shared::webhook::sign(b"x", now, raw.as_bytes())),
            ("{{BODY}}", &escaped),
        ],
    );
    assert_eq!(webhook::handle_event(&state, forged).await.status(), 401);
    // A rotation stores a new secret under the same name: the cached one no longer matches, the fresh one does.
    shared::store::SecretStore::put_secret(
        &app.store,
        &route.secret_name,
        &shared::store::SecretValue::new("whsec_2"),
        &org,
    )
    .await
    .unwrap();
    let raw2 = raw.replace("inv-7", "inv-8");
    let rotated = event(
        "apigw_v2_webhook.json",
        &[
            ("{{TOKEN}}", &token),
            ("{{SIGNATURE}}", &shared::webhook::sign(b"whsec_2", now, raw2.as_bytes())),
            ("{{BODY}}", &raw2.replace('"', "\\\"")),
        ],
    );
    assert_eq!(webhook::handle_event(&state, rotated).await.status(), 202, "signed with the rotated secret");
    // One message, a targeted job for the invoice, held back for the coalescing window.
    let msgs = app.store.sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    let delayed = app
        .store
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap();
    let visible = msgs.messages().len();
    let held: usize = delayed
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert_eq!(visible + held, 2, "one job per invoice");
    for m in msgs.messages() {
        let job: shared::queue::SyncMessage = serde_json::from_str(m.body().unwrap()).unwrap();
        assert_eq!(job.reason, "webhook");
        assert!(["inv-7", "inv-8"].contains(&job.targets[0].id.as_str()), "{job:?}");
    }
}
