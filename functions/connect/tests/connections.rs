//! Connecting Sequence against the simulator: credentials checked before anything is stored, bad
//! credentials vs Sequence being down, the sandbox ⇔ test pairing rule, reconnect, a second account,
//! rotation — and the secret never in a response, the store or the audit trail.

use bytes::Bytes;
use sequence_sim::{SimHandle, SimOptions, Simulator};
use shared::app::App;
use shared::clock::SystemClock;
use shared::config::Config;
use shared::domain::{Environment, Mode, OrgId};
use shared::org::Principal;
use shared::store::{EmbeddedStore, SecretStore};
use std::sync::Arc;

struct Fx {
    app: App<EmbeddedStore>,
    dir: std::path::PathBuf,
    sim: SimHandle,
    test_org: Principal,
    live_org: Principal,
}

async fn fx() -> Fx {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let mut config = Config::defaults();
    config.sequence_sandbox_url = sim.sandbox_url();
    config.sequence_production_url = sim.production_url();
    let dir = std::env::temp_dir().join(format!("connect-seq-{}", shared::domain::new_uuid()));
    let app = App::new(config, EmbeddedStore::open(&dir).unwrap(), Arc::new(SystemClock));
    let p = |org: &str, mode| Principal { org: OrgId::parse(org).unwrap(), mode, actor: "tester".into() };
    Fx { app, dir, sim, test_org: p("org_t", Mode::Test), live_org: p("org_l", Mode::Live) }
}

async fn call(f: &Fx, who: &Principal, method: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let req = http::Request::builder().method(method).uri(path).body(Bytes::from(body.to_string())).unwrap();
    let resp = connect::handle(&f.app, who.clone(), req).await;
    (resp.status().as_u16(), serde_json::from_slice(resp.body()).unwrap_or_default())
}

/// `POST /v1/sequence/connections` as `who` with `body` (client id, secret and maybe an environment).
async fn connect_as(f: &Fx, who: &Principal, body: serde_json::Value) -> (u16, serde_json::Value) {
    call(f, who, "POST", "/v1/sequence/connections", body).await
}

fn creds(f: &Fx, env: Environment) -> (String, String, String) {
    let c = f.sim.credentials(env);
    (c.client_id, c.client_secret, c.account_id)
}

#[tokio::test]
async fn connect_checks_stores_the_secret_safely_and_reconnect_updates() {
    let f = fx().await;
    let (id, secret, account) = creds(&f, Environment::Sandbox);
    let (status, conn) =
        connect_as(&f, &f.test_org, serde_json::json!({"client_id": id, "client_secret": secret})).await;
    assert_eq!(status, 201, "{conn}");
    assert_eq!(conn["environment"], "sandbox");
    assert_eq!(conn["sequence_account_id"], account.as_str());
    assert_eq!(conn["status"], "active");
    assert!(conn["company_name"].is_string());
    assert!(!conn.to_string().contains(&secret));
    let conn_id = conn["id"].as_str().unwrap().to_owned();

    // the secret is in the secret store, under the documented name, and nowhere else
    let name = format!("sphere-connector/sequence/org_t/{conn_id}");
    let stored = f.app.store.get_secret(&name).await.unwrap().unwrap();
    assert!(stored.expose().contains(&secret));
    let raw = std::fs::read(f.dir.join("store.redb")).unwrap();
    assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let (_, audit) = call(&f, &f.test_org, "GET", "/v1/audit", serde_json::Value::Null).await;
    assert_eq!(audit["items"][0]["action"], "connection.create");
    assert!(!audit.to_string().contains(&secret));

    // connecting the same account again updates it: same id, one connection
    let (status, again) = connect_as(
        &f,
        &f.test_org,
        serde_json::json!({"client_id": id, "client_secret": secret, "environment": "sandbox"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], conn_id.as_str());
    let (_, list) = call(&f, &f.test_org, "GET", "/v1/sequence/connections", serde_json::Value::Null).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // rotation re-checks; credentials of another account are refused
    let (status, _) = call(
        &f,
        &f.test_org,
        "PUT",
        &format!("/v1/sequence/connections/{conn_id}/credentials"),
        serde_json::json!({"client_id": id, "client_secret": secret}),
    )
    .await;
    assert_eq!(status, 200);
    let other = f.sim.state.add_account(Environment::Sandbox, "Other Ltd");
    let (status, body) = call(
        &f,
        &f.test_org,
        "PUT",
        &format!("/v1/sequence/connections/{conn_id}/credentials"),
        serde_json::json!({"client_id": other.client_id, "client_secret": other.client_secret}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // a second, different account while one is active → 409 naming the active one
    let (status, body) = connect_as(
        &f,
        &f.test_org,
        serde_json::json!({"client_id": other.client_id, "client_secret": other.client_secret}),
    )
    .await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains(&account), "{body}");

    // after disconnecting, the other account can connect
    assert_eq!(
        call(&f, &f.test_org, "DELETE", &format!("/v1/sequence/connections/{conn_id}"), serde_json::Value::Null)
            .await
            .0,
        200
    );
    let (status, _) = connect_as(
        &f,
        &f.test_org,
        serde_json::json!({"client_id": other.client_id, "client_secret": other.client_secret}),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn wrong_secret_is_invalid_credentials_and_nothing_is_stored() {
    let f = fx().await;
    let (id, _, _) = creds(&f, Environment::Sandbox);
    let (status, body) =
        connect_as(&f, &f.test_org, serde_json::json!({"client_id": id, "client_secret": "wrong-secret"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_credentials");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("Sequence rejected this Client ID or Secret"));
    let (_, list) = call(&f, &f.test_org, "GET", "/v1/sequence/connections", serde_json::Value::Null).await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn sequence_down_is_503_never_invalid_credentials() {
    let f = fx().await;
    let (id, secret, _) = creds(&f, Environment::Sandbox);
    f.sim.state.update_faults(|x| {
        x.fail_next = 50;
        x.fail_status = Some(503);
    });
    let (status, body) =
        connect_as(&f, &f.test_org, serde_json::json!({"client_id": id, "client_secret": secret})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "sequence_unavailable");
    f.sim.state.update_faults(|x| x.fail_next = 0);

    // unreachable host
    let mut config = Config::defaults();
    config.sequence_sandbox_url = "http://127.0.0.1:9/api".into();
    let app = App::new(config, f.app.store.clone(), Arc::new(SystemClock));
    let req = http::Request::builder()
        .method("POST")
        .uri("/v1/sequence/connections")
        .body(Bytes::from(serde_json::json!({"client_id": id, "client_secret": secret}).to_string()))
        .unwrap();
    let resp = connect::handle(&app, f.test_org.clone(), req).await;
    assert_eq!(resp.status(), 503);
}

#[tokio::test]
async fn sandbox_and_live_never_pair() {
    let f = fx().await;
    let (id, secret, _) = creds(&f, Environment::Sandbox);
    // explicit mismatch: explained, without calling Sequence
    let (status, body) = connect_as(
        &f,
        &f.live_org,
        serde_json::json!({"client_id": id, "client_secret": secret, "environment": "sandbox"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "environment_mismatch");
    assert!(body["error"]["message"].as_str().unwrap().contains("Sequence sandbox ⇔ Sphere test organization"));
    // defaulted: a live org checks against production, where sandbox credentials do not exist
    let (status, body) =
        connect_as(&f, &f.live_org, serde_json::json!({"client_id": id, "client_secret": secret})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_credentials")));
    // production credentials on the live org work
    let (pid, psecret, _) = creds(&f, Environment::Production);
    let (status, conn) =
        connect_as(&f, &f.live_org, serde_json::json!({"client_id": pid, "client_secret": psecret})).await;
    assert_eq!(status, 201);
    assert_eq!(conn["environment"], "production");
    // and the key it issues is a live key
    let (_, key) = call(
        &f,
        &f.live_org,
        "POST",
        &format!("/v1/sequence/connections/{}/api-keys", conn["id"].as_str().unwrap()),
        serde_json::Value::Null,
    )
    .await;
    assert!(key["api_key"].as_str().unwrap().starts_with("sphk_live_"));
}

#[tokio::test]
async fn bad_bodies_are_clear_400s() {
    let f = fx().await;
    for (body, needle) in [
        ("", "JSON body is required"),
        ("{", "invalid JSON"),
        ("{\"client_id\":\"a\"}", "client_secret"),
        ("{\"client_id\":\"a\",\"client_secret\":\"b\",\"org_id\":\"x\"}", "org_id"),
        ("{\"client_id\":\"\",\"client_secret\":\"b\"}", "client_id"),
        ("{\"client_id\":\"a\",\"client_secret\":\"b\",\"environment\":\"staging\"}", "staging"),
    ] {
        let req =
            http::Request::builder().method("POST").uri("/v1/sequence/connections").body(Bytes::from(body)).unwrap();
        let resp = connect::handle(&f.app, f.test_org.clone(), req).await;
        let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        assert!(v["error"]["message"].as_str().unwrap().contains(needle), "{body}: {v}");
    }
}

/// The embedded store whose record writes can be made to fail (secrets still work).
#[derive(Clone)]
struct FailingWrites {
    inner: EmbeddedStore,
    fail: Arc<std::sync::atomic::AtomicBool>,
    /// Names of the secrets put, in order.
    put: Arc<std::sync::Mutex<Vec<String>>>,
}

impl shared::store::ItemStore for FailingWrites {
    async fn get(&self, key: &shared::store::Key) -> Result<Option<shared::store::Item>, shared::store::StoreError> {
        self.inner.get(key).await
    }
    async fn query(&self, q: &shared::store::Query) -> Result<shared::store::Page, shared::store::StoreError> {
        self.inner.query(q).await
    }
    async fn write(&self, ops: Vec<shared::store::WriteOp>) -> Result<(), shared::store::StoreError> {
        // Once a secret has been stored, the next record write fails (the store becoming unreachable then).
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) && !self.put.lock().unwrap().is_empty() {
            return Err(shared::store::StoreError::Unavailable("write refused by the test".into()));
        }
        self.inner.write(ops).await
    }
}

impl SecretStore for FailingWrites {
    async fn put_secret(
        &self,
        n: &str,
        v: &shared::store::SecretValue,
        o: &OrgId,
    ) -> Result<(), shared::store::SecretError> {
        self.put.lock().unwrap().push(n.to_owned());
        self.inner.put_secret(n, v, o).await
    }
    async fn get_secret(&self, n: &str) -> Result<Option<shared::store::SecretValue>, shared::store::SecretError> {
        self.inner.get_secret(n).await
    }
    async fn delete_secret(&self, n: &str) -> Result<(), shared::store::SecretError> {
        self.inner.delete_secret(n).await
    }
}

#[tokio::test]
async fn a_connect_that_fails_after_storing_the_secret_removes_it() {
    let f = fx().await;
    let store = FailingWrites {
        inner: EmbeddedStore::open(&f.dir.join("failing")).unwrap(),
        fail: Arc::new(std::sync::atomic::AtomicBool::new(true)),
        put: Arc::default(),
    };
    let app = App::new(f.app.config.clone(), store.clone(), Arc::new(SystemClock));
    let (id, secret, _) = creds(&f, Environment::Sandbox);
    let body = serde_json::json!({"client_id": id, "client_secret": secret});
    let req = http::Request::builder()
        .method("POST")
        .uri("/v1/sequence/connections")
        .body(Bytes::from(body.to_string()))
        .unwrap();
    let resp = connect::handle(&app, f.test_org.clone(), req).await;
    assert_eq!(resp.status().as_u16(), 503, "{:?}", resp.body());
    // The secret was stored before the record write failed, and is gone again.
    let put = store.put.lock().unwrap().clone();
    assert_eq!(put.len(), 1, "{put:?}");
    assert!(store.get_secret(&put[0]).await.unwrap().is_none(), "{} survived the failed connect", put[0]);
}
