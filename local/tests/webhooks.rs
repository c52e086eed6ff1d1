//! Near-real-time sync end to end over loopback: the Sequence simulator sends signed webhooks to
//! `sphere-local`'s endpoint, which queues targeted jobs on the local worker (the same `sync::run_job` as the
//! Lambda). Proves: a policy is created at connect and deleted at disconnect; a voided invoice (also one issued
//! 200 days ago) reaches the ledger in under 5 s without a scheduled run; forged, replayed, stale and oversized
//! deliveries change nothing; 50 notifications for one invoice cause one fetch; dropped, duplicated and
//! reordered deliveries leave the ledger equal to the simulator after the next scheduled run.

use bytes::Bytes;
use sequence_sim::{SeedSpec, SimOptions, Simulator, Target};
use serde_json::{Value, json};
use shared::domain::Environment;
use shared::ledger::DocKind;
use sphere_local::serve;
use std::time::{Duration, Instant};

struct Env {
    sim: sequence_sim::SimHandle,
    server: std::sync::Arc<serve::Server>,
    base: String,
    token: String,
    dir: std::path::PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn console(env: &Env, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, format!("{}{path}", env.base)).bearer_auth(&env.token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn start(seed: SeedSpec) -> Env {
    let sim = Simulator::start(SimOptions { data: Some(seed), rate_limit_per_minute: None, ..SimOptions::default() })
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("webhooks-{}", shared::domain::new_uuid()));
    let (base, server, _) = serve::start_beside(&dir, &sim).await.unwrap();
    let token = server.tokens.test.token.clone();
    Env { sim, server, base, token, dir }
}

async fn connect_and_sync(env: &Env) -> String {
    let c = env.sim.credentials(Environment::Sandbox);
    let (s, conn) = console(
        env,
        reqwest::Method::POST,
        "/v1/sequence/connections",
        Some(json!({"client_id": c.client_id, "client_secret": c.client_secret})),
    )
    .await;
    assert_eq!(s, 201, "{conn}");
    let id = conn["id"].as_str().unwrap().to_owned();
    assert_eq!(conn["webhooks"]["enabled"], true, "{conn}");
    console(env, reqwest::Method::POST, &format!("/v1/sequence/connections/{id}/sync"), Some(json!({}))).await;
    assert!(env.server.sync_pending.idle(Duration::from_secs(60)).await, "the first sync finished");
    id
}

fn ledger<'e>(env: &'e Env, conn: &str) -> shared::ledger::Ledger<'e, shared::store::EmbeddedStore> {
    shared::ledger::Ledger::new(
        &env.server.app.store,
        env.server.tokens.test.org_id.clone(),
        shared::domain::ConnectionId::parse(conn).unwrap(),
    )
}

/// Waits until the ledger's copy of invoice `id` has `status` (`VOIDED`, …); the time it took.
async fn until_status(env: &Env, conn: &str, id: &str, status: &str, within: Duration) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < within {
        if let Ok(Some(h)) = ledger(env, conn).head(DocKind::Invoice, id).await
            && h.value.txn.source_status == status
        {
            return Some(t.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// A sent invoice of the sandbox issued about `days` days ago.
fn sent_invoice(env: &Env, days: i64) -> String {
    let today = chrono::Utc::now().date_naive();
    env.sim.state.with(|w| {
        let a = w.account_index(&Target { environment: Some(Environment::Sandbox), account_id: None }).unwrap();
        w.accounts[a]
            .invoices
            .iter()
            .filter(|r| r.invoice.status == sequence_sim::wire::InvoiceStatus::Sent)
            .min_by_key(|r| {
                (r.invoice.issue_date.map_or(i64::MAX, |d| ((today - d).num_days() - days).abs()), r.invoice.id.clone())
            })
            .map(|r| r.invoice.id.clone())
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_void_in_sequence_reaches_the_ledger_by_webhook_within_seconds() {
    let env = start(SeedSpec { customers: 20, invoices: 120, ..SeedSpec::default() }).await;
    let conn = connect_and_sync(&env).await;
    let policies = env.sim.state.policies(Environment::Sandbox);
    assert_eq!(policies.len(), 1, "one policy per connection");
    assert!(policies[0].recipients[0].starts_with(&format!("{}/webhooks/sequence/", env.base)));
    assert!(policies[0].notification_types.iter().any(|t| t == "INVOICE_UPDATED"));

    let mut latencies = Vec::new();
    for days in [10, 200] {
        let id = sent_invoice(&env, days);
        assert_eq!(
            ledger(&env, &conn).head(DocKind::Invoice, &id).await.unwrap().unwrap().value.txn.source_status,
            "SENT"
        );
        env.sim.state.void_invoice(&id).unwrap();
        let took = until_status(&env, &conn, &id, "VOIDED", Duration::from_secs(5)).await;
        assert!(took.is_some(), "invoice issued ~{days} days ago not voided in the ledger within 5 s");
        latencies.extend(took);
    }
    println!("webhook to ledger: {latencies:?}");

    // Disconnect deletes the policy in Sequence.
    let (s, _) = console(&env, reqwest::Method::DELETE, &format!("/v1/sequence/connections/{conn}"), None).await;
    assert_eq!(s, 200);
    assert!(env.sim.state.policies(Environment::Sandbox).is_empty(), "policy deleted at disconnect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_stale_or_oversized_deliveries_change_nothing_and_fifty_cause_one_fetch() {
    let env = start(SeedSpec { customers: 10, invoices: 40, ..SeedSpec::default() }).await;
    let conn = connect_and_sync(&env).await;
    let rec = shared::connection::get(
        &env.server.app.store,
        &env.server.tokens.test.org_id,
        &shared::domain::ConnectionId::parse(&conn).unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .value;
    let path_token = rec.webhooks.as_ref().and_then(|w| w.token.clone()).unwrap();
    let secret_name = shared::connection::webhook_secret_name(&rec.secret_name);
    let secret = shared::store::SecretStore::get_secret(&env.server.app.store, &secret_name).await.unwrap().unwrap();
    let secret = secret.expose().as_bytes().to_vec();
    let url = format!("{}/webhooks/sequence/{path_token}", env.base);
    let id = sent_invoice(&env, 10);
    let account = env.sim.credentials(Environment::Sandbox).account_id;
    let body = json!({"notificationType": "INVOICE_UPDATED", "sequenceAccountId": account, "resourceType": "INVOICE", "resourceId": id})
        .to_string();
    let post = |sig: Option<String>, body: String, url: String| async move {
        let mut r = reqwest::Client::new().post(url).body(Bytes::from(body));
        if let Some(s) = sig {
            r = r.header("Sequence-Signature", s);
        }
        r.send().await.unwrap().status().as_u16()
    };
    let now = chrono::Utc::now().timestamp_millis();
    // Voided in the simulator with its webhooks dropped: only what we post reaches the endpoint.
    env.sim.state.set_webhook_faults(sequence_sim::webhooks::WebhookFaults { drop_next: 1_000, ..Default::default() });
    env.sim.state.void_invoice(&id).unwrap();
    let forged = shared::webhook::sign(b"not-the-secret", now, body.as_bytes());
    let stale = shared::webhook::sign(&secret, now - 6 * 60 * 1000, body.as_bytes());
    let big = "x".repeat(shared::webhook::MAX_BODY_BYTES + 1);
    let big_sig = shared::webhook::sign(&secret, now, big.as_bytes());
    assert_eq!(post(Some(forged), body.clone(), url.clone()).await, 401, "forged");
    assert_eq!(post(None, body.clone(), url.clone()).await, 401, "unsigned");
    assert_eq!(post(Some(stale), body.clone(), url.clone()).await, 401, "stale");
    assert_eq!(post(Some(big_sig), big, url.clone()).await, 413, "oversized");
    let unknown = format!("{}/webhooks/sequence/{}", env.base, "0".repeat(64));
    let good = shared::webhook::sign(&secret, now, body.as_bytes());
    assert_eq!(post(Some(good.clone()), body.clone(), unknown).await, 404, "unknown endpoint");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(env.server.sync_pending.idle(Duration::from_secs(10)).await);
    assert_eq!(
        ledger(&env, &conn).head(DocKind::Invoice, &id).await.unwrap().unwrap().value.txn.source_status,
        "SENT",
        "no refused delivery changed the ledger"
    );

    // 50 genuine deliveries for the invoice (each its own timestamp): one job, one fetch of the invoice.
    let requests_before = env.sim.state.stats().api_requests;
    let mut codes = Vec::new();
    for i in 0..50 {
        let sig = shared::webhook::sign(&secret, now + i, body.as_bytes());
        codes.push(post(Some(sig), body.clone(), url.clone()).await);
    }
    assert!(codes.iter().all(|c| *c == 202), "{codes:?}");
    let again = shared::webhook::sign(&secret, now + 100, body.as_bytes());
    assert_eq!(post(Some(again.clone()), body.clone(), url.clone()).await, 202);
    assert_eq!(post(Some(again), body.clone(), url.clone()).await, 409, "the same delivery again: a replay");
    assert!(until_status(&env, &conn, &id, "VOIDED", Duration::from_secs(5)).await.is_some());
    assert!(env.server.sync_pending.idle(Duration::from_secs(10)).await);
    let requests = env.sim.state.stats().api_requests - requests_before;
    assert!(requests <= 3, "50 notifications for one invoice: {requests} Sequence requests (invoice + its lines)");
    env.sim.state.set_webhook_faults(Default::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_duplicated_and_reordered_webhooks_converge_after_the_next_scheduled_run() {
    let env = start(SeedSpec { customers: 10, invoices: 150, ..SeedSpec::default() }).await;
    let conn = connect_and_sync(&env).await;
    // Invoices inside the scheduled run's lookback window (45 days): an older change a webhook missed is the weekly
    // full reconciliation's to catch (README, "Webhooks").
    let recent = chrono::Utc::now().date_naive() - chrono::Days::new(40);
    let ids: Vec<String> = env.sim.state.with(|w| {
        let a = w.account_index(&Target { environment: Some(Environment::Sandbox), account_id: None }).unwrap();
        w.accounts[a]
            .invoices
            .iter()
            .filter(|r| r.invoice.status == sequence_sim::wire::InvoiceStatus::Sent)
            .filter(|r| r.invoice.issue_date.is_some_and(|d| d >= recent))
            .take(9)
            .map(|r| r.invoice.id.clone())
            .collect()
    });
    for (i, id) in ids.iter().enumerate() {
        env.sim.state.set_webhook_faults(sequence_sim::webhooks::WebhookFaults {
            drop_next: u32::from(i % 3 == 0),
            duplicate_next: u32::from(i % 3 == 1),
            reorder: true,
            delay_ms: 50,
            refuse_policies: None,
        });
        env.sim.state.void_invoice(id).unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(env.server.sync_pending.idle(Duration::from_secs(20)).await);
    let stats = env.sim.state.webhook_stats();
    assert!(stats.dropped >= 3 && stats.duplicated >= 3, "{stats:?}");
    // The scheduled run is the source of truth: after it every voided invoice is voided in the ledger.
    let (s, v) =
        console(&env, reqwest::Method::POST, &format!("/v1/sequence/connections/{conn}/sync"), Some(json!({}))).await;
    assert!(s < 300, "{v}");
    assert!(env.server.sync_pending.idle(Duration::from_secs(60)).await);
    for id in &ids {
        let h = ledger(&env, &conn).head(DocKind::Invoice, id).await.unwrap().unwrap().value;
        assert_eq!(h.txn.source_status, "VOIDED", "{id}");
    }
    let l = ledger(&env, &conn);
    assert_eq!(l.all_counters().await.unwrap(), l.recomputed_counters().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscription_leaves_the_connection_on_its_schedule_and_says_why() {
    let env = start(SeedSpec { customers: 5, invoices: 10, ..SeedSpec::default() }).await;
    env.sim
        .state
        .set_webhook_faults(sequence_sim::webhooks::WebhookFaults { refuse_policies: Some(403), ..Default::default() });
    let c = env.sim.credentials(Environment::Sandbox);
    let (s, conn) = console(
        &env,
        reqwest::Method::POST,
        "/v1/sequence/connections",
        Some(json!({"client_id": c.client_id, "client_secret": c.client_secret})),
    )
    .await;
    assert_eq!(s, 201, "{conn}");
    assert_eq!(conn["status"], "active");
    assert_eq!(conn["webhooks"]["enabled"], false);
    let reason = conn["webhooks"]["reason"].as_str().unwrap();
    assert!(reason.contains("403") && reason.contains("scheduled sync"), "{reason}");
    assert!(!conn.to_string().contains("/webhooks/sequence/"), "the endpoint's token is never shown");
}
