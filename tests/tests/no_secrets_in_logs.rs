//! Secrets never reach logs: every log line emitted (at TRACE level, all targets) while the whole
//! console + tax flow runs — including its failure paths — is captured and searched for the Sequence
//! client secret and every issued Sphere API key.

use bytes::Bytes;
use sequence_sim::{SimOptions, Simulator};
use shared::app::App;
use shared::clock::SystemClock;
use shared::config::Config;
use shared::domain::{Environment, Mode, OrgId};
use shared::org::Principal;
use shared::store::EmbeddedStore;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn console(
    app: &App<EmbeddedStore>,
    who: &Principal,
    method: &str,
    path: &str,
    body: String,
) -> serde_json::Value {
    let req = http::Request::builder().method(method).uri(path).body(Bytes::from(body)).unwrap();
    serde_json::from_slice(connect::handle(app, who.clone(), req).await.body()).unwrap_or_default()
}

async fn tax_call(app: &App<EmbeddedStore>, key: &str, path: &str, body: &str) -> u16 {
    let method = if path.ends_with("verify") { "GET" } else { "POST" };
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", key)
        .body(Bytes::from(body.to_owned()))
        .unwrap();
    tax::handle(&tax::State::of(app).unwrap(), req).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_key_appears_in_any_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // Global, so tasks on every runtime thread (HTTP client and server internals too) are captured;
    // this binary has this one test.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let mut config = Config::defaults();
    config.sequence_sandbox_url = sim.sandbox_url();
    config.sequence_production_url = sim.production_url();
    let dir = std::env::temp_dir().join(format!("no-secrets-{}", shared::domain::new_uuid()));
    let app = App::new(config, EmbeddedStore::open(&dir).unwrap(), Arc::new(SystemClock));
    let who = Principal { org: OrgId::parse("org_logs").unwrap(), mode: Mode::Test, actor: "auditor".into() };
    let creds = sim.credentials(Environment::Sandbox);

    // wrong secret, then Sequence failing, then success
    let wrong = format!("{}-wrong", creds.client_secret);
    console(
        &app,
        &who,
        "POST",
        "/v1/sequence/connections",
        serde_json::json!({"client_id": creds.client_id, "client_secret": wrong}).to_string(),
    )
    .await;
    sim.state.update_faults(|f| {
        f.fail_next = 3;
        f.fail_status = Some(500);
    });
    console(
        &app,
        &who,
        "POST",
        "/v1/sequence/connections",
        serde_json::json!({"client_id": creds.client_id, "client_secret": creds.client_secret}).to_string(),
    )
    .await;
    sim.state.update_faults(|f| f.fail_next = 0);
    let conn = console(
        &app,
        &who,
        "POST",
        "/v1/sequence/connections",
        serde_json::json!({"client_id": creds.client_id, "client_secret": creds.client_secret}).to_string(),
    )
    .await;
    let conn_id = conn["id"].as_str().expect("connected").to_owned();

    // keys: issue two, use, revoke one, use again; malformed and tampered keys
    let mut keys = Vec::new();
    for _ in 0..2 {
        let k =
            console(&app, &who, "POST", &format!("/v1/sequence/connections/{conn_id}/api-keys"), String::new()).await;
        keys.push(k["api_key"].as_str().unwrap().to_owned());
    }
    let body = serde_json::json!({"currency": "usd", "customer_address": {"country": "US", "state": "GA", "postal_code": "30303"},
        "line_items": [{"product_id": "unknown", "amount": 100}]})
    .to_string();
    for k in &keys {
        tax_call(&app, k, "/tax_api/verify", "").await;
        tax_call(&app, k, "/tax_api/calculate_tax", &body).await;
        tax_call(&app, k, "/tax_api/calculate_tax", "{").await;
        tax_call(&app, &format!("{k}x"), "/tax_api/verify", "").await;
    }
    let listed =
        console(&app, &who, "GET", &format!("/v1/sequence/connections/{conn_id}/api-keys"), String::new()).await;
    let key_id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    console(&app, &who, "DELETE", &format!("/v1/sequence/connections/{conn_id}/api-keys/{key_id}"), String::new())
        .await;
    console(
        &app,
        &who,
        "PUT",
        &format!("/v1/sequence/connections/{conn_id}/credentials"),
        serde_json::json!({"client_id": creds.client_id, "client_secret": wrong}).to_string(),
    )
    .await;
    console(&app, &who, "DELETE", &format!("/v1/sequence/connections/{conn_id}"), String::new()).await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 5, "the flow should have logged something to search:\n{logs}");
    for secret in [creds.client_secret.as_str(), wrong.as_str()].into_iter().chain(keys.iter().map(String::as_str)) {
        assert!(!logs.contains(secret), "a secret or key appears in the logs");
        // nor its secret part alone (keys: the 33 random characters)
        let core = &secret[secret.len().saturating_sub(30)..];
        assert!(!logs.contains(core), "part of a secret or key appears in the logs");
    }
    // and no Basic credential header either
    assert!(!logs.contains("Basic "), "an Authorization header was logged");
}
