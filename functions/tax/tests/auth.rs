//! API key authentication of the tax API: checksum rejection without a store read, the cache bound as
//! the revocation delay, and the store-outage rule (cached keys answer, unverifiable keys get 500).

use bytes::Bytes;
use shared::app::App;
use shared::clock::FakeClock;
use shared::config::Config;
use shared::domain::{ConnectionId, Mode, OrgId};
use shared::store::{
    EmbeddedStore, Item, ItemStore, Key, Page, Query, SecretError, SecretStore, SecretValue, StoreError, WriteOp,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// The embedded store, counting reads and able to fail like an unreachable backend.
#[derive(Clone)]
struct Probe {
    inner: EmbeddedStore,
    reads: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
    /// The keys of single reads, and the sizes of batched ones (`get_many`).
    gets: Arc<std::sync::Mutex<Vec<Key>>>,
    batches: Arc<std::sync::Mutex<Vec<usize>>>,
}

impl Probe {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) { Err(StoreError::Unavailable("down".into())) } else { Ok(()) }
    }
}

impl ItemStore for Probe {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.gets.lock().unwrap().push(key.clone());
        self.check()?;
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.batches.lock().unwrap().push(keys.len());
        self.check()?;
        self.inner.get_many(keys).await
    }
    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.check()?;
        self.inner.query(q).await
    }
    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.write(ops).await
    }
}

impl SecretStore for Probe {
    async fn put_secret(&self, n: &str, v: &SecretValue, o: &OrgId) -> Result<(), SecretError> {
        self.inner.put_secret(n, v, o).await
    }
    async fn get_secret(&self, n: &str) -> Result<Option<SecretValue>, SecretError> {
        self.inner.get_secret(n).await
    }
    async fn delete_secret(&self, n: &str) -> Result<(), SecretError> {
        self.inner.delete_secret(n).await
    }
}

/// A store that counts reads and can be taken down, over a fresh embedded store.
fn probe() -> Probe {
    let dir = std::env::temp_dir().join(format!("tax-auth-{}", shared::domain::new_uuid()));
    Probe {
        inner: EmbeddedStore::open(&dir).unwrap(),
        reads: Default::default(),
        down: Default::default(),
        gets: Default::default(),
        batches: Default::default(),
    }
}

fn setup() -> (App<Probe>, Arc<FakeClock>, Probe) {
    let probe = probe();
    let clock = FakeClock::at(1_800_000_000_000);
    (App::new(Config::defaults(), probe.clone(), clock.clone()), clock, probe)
}

async fn issue(app: &App<Probe>, org: &str, mode: Mode) -> (String, shared::api_key::ApiKeyRecord) {
    let (key, parsed) = shared::api_key::generate(mode, &app.key_pepper);
    let rec = shared::api_key::create(
        &app.store,
        &parsed,
        &OrgId::parse(org).unwrap(),
        &ConnectionId::parse("conn_1").unwrap(),
        "t",
    )
    .await
    .unwrap();
    (key, rec)
}

async fn call(app: &App<Probe>, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut b = http::Request::builder().method(method).uri(path);
    if let Some(k) = key {
        b = b.header("X-API-KEY", k);
    }
    let resp = tax::handle(&tax::State::of(app).unwrap(), b.body(Bytes::from(body.to_owned())).unwrap()).await;
    let status = resp.status().as_u16();
    (status, serde_json::from_slice(resp.body()).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn verify_reports_org_mode_and_connection_for_a_good_key() {
    let (app, _, _) = setup();
    let (key, _) = issue(&app, "org_a", Mode::Test).await;
    let (status, body) = call(&app, "GET", "/tax_api/verify", Some(&key), "").await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"organization_id": "org_a", "livemode": false, "connection_id": "conn_1"}));
}

#[tokio::test]
async fn missing_malformed_and_unknown_keys_get_401_and_garbage_never_reaches_the_store() {
    let (app, _, probe) = setup();
    let (key, _) = issue(&app, "org_a", Mode::Live).await;
    for k in [None, Some(""), Some("garbage"), Some("sphk_live_short_x")] {
        let (status, body) = call(&app, "GET", "/tax_api/verify", k, "").await;
        assert_eq!(status, 401, "{k:?}");
        assert_eq!(body["code"], "unauthorized_access");
        assert_eq!(body["type"], "api_error");
    }
    let mut tampered = key.clone().into_bytes();
    tampered[20] = if tampered[20] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&tampered), "").await.0, 401);
    assert_eq!(probe.reads.load(Ordering::SeqCst), 0, "checksum rejection happens before any store read");
    // a well-formed key nobody issued is looked up once, then refused
    let (unknown, _) = shared::api_key::generate(Mode::Live, &app.key_pepper);
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&unknown), "").await.0, 401);
    assert_eq!(probe.reads.load(Ordering::SeqCst), 1);
}

/// A key as issued before the pepper: the same shape with a 6-character unkeyed (SHA-256) check.
fn legacy_key(mode: Mode, n: u32) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let prefix = if mode == Mode::Live { "sphk_live_" } else { "sphk_test_" };
    let secret: String = format!("{n:0>33}").chars().rev().collect();
    let body = format!("{prefix}{secret}");
    let check: String = shared::crypto::sha256(body.as_bytes())
        .iter()
        .take(6)
        .map(|b| ALPHABET[usize::from(*b) % 62] as char)
        .collect();
    format!("{body}_{check}")
}

#[tokio::test]
async fn forged_keys_reach_neither_the_store_nor_the_cache() {
    let (app, _, probe) = setup();
    let (real, _) = issue(&app, "org_a", Mode::Live).await;
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&real), "").await.0, 200);
    assert_eq!(probe.reads.load(Ordering::SeqCst), 1);
    // Well-formed keys made with any other pepper (a forger knows the format, not the deployment's secret):
    // more than the cache holds, none read, none cached.
    let forger = shared::api_key::KeyPepper::random();
    for _ in 0..10_001 {
        let (forged, _) = shared::api_key::generate(Mode::Live, &forger);
        assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&forged), "").await.0, 401);
    }
    // Legacy-shaped keys pass their unkeyed check, so they are read, but a miss is never cached.
    for n in 0..10_001 {
        assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&legacy_key(Mode::Live, n)), "").await.0, 401);
    }
    assert_eq!(probe.reads.load(Ordering::SeqCst), 1 + 10_001);
    assert_eq!(app.caches.keys.len(), 1, "only the real key is cached");
    // The real key is still served from the cache: with the store down it is answered.
    probe.down.store(true, Ordering::SeqCst);
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&real), "").await.0, 200);
}

#[tokio::test]
async fn keys_issued_before_the_pepper_work_until_the_sunset() {
    let (app, clock, _) = setup();
    let old = legacy_key(Mode::Test, 7);
    let parsed = shared::api_key::parse(&old, &app.key_pepper).unwrap();
    assert!(parsed.legacy);
    shared::api_key::create(
        &app.store,
        &parsed,
        &OrgId::parse("org_a").unwrap(),
        &ConnectionId::parse("conn_1").unwrap(),
        "t",
    )
    .await
    .unwrap();
    // 2027-01-15: before the default sunset (2027-02-24)
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&old), "").await.0, 200);
    clock.advance(Duration::from_secs(41 * 86_400));
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&old), "").await.0, 401, "refused after 2027-02-24");
    // a key with the keyed check keeps working
    let (new, _) = issue(&app, "org_a", Mode::Test).await;
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&new), "").await.0, 200);
}

#[tokio::test]
async fn duplicate_key_headers_are_refused() {
    let (app, _, _) = setup();
    let (key, _) = issue(&app, "org_a", Mode::Test).await;
    let req = http::Request::builder()
        .uri("/tax_api/verify")
        .header("X-API-KEY", &key)
        .header("X-API-KEY", &key)
        .body(Bytes::new())
        .unwrap();
    assert_eq!(tax::handle(&tax::State::of(&app).unwrap(), req).await.status(), 401);
}

#[tokio::test]
async fn revoked_key_is_refused_after_the_cache_bound() {
    let (app, clock, _) = setup();
    let (key, rec) = issue(&app, "org_a", Mode::Test).await;
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&key), "").await.0, 200);
    shared::api_key::revoke(&app.store, &rec.org_id, &rec.key_id, "t2").await.unwrap();
    clock.advance(Duration::from_secs(59));
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&key), "").await.0, 200, "cached inside the bound");
    clock.advance(Duration::from_secs(2));
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&key), "").await.0, 401, "refused after 60 s");
}

#[tokio::test]
async fn store_outage_serves_cached_keys_and_refuses_to_guess_for_others() {
    let (app, _, probe) = setup();
    let (known, _) = issue(&app, "org_a", Mode::Test).await;
    let (other, _) = issue(&app, "org_a", Mode::Test).await;
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&known), "").await.0, 200);
    probe.down.store(true, Ordering::SeqCst);
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&known), "").await.0, 200);
    let (status, body) = call(&app, "GET", "/tax_api/verify", Some(&other), "").await;
    assert_eq!(status, 500);
    assert_eq!(body["code"], "internal_server_error");
    assert!(!body.to_string().contains("down"), "no internals in the error");
}

#[tokio::test]
async fn store_outage_still_answers_calculations_for_recently_seen_callers() {
    let (app, clock, probe) = setup();
    let (known, _) = issue(&app, "org_a", Mode::Test).await;
    let (unseen, _) = issue(&app, "org_b", Mode::Test).await;
    // org A: a default tax code and a Georgia registration
    let org = OrgId::parse("org_a").unwrap();
    let settings = shared::settings::SettingsRecord {
        default_product_tax_code: Some("physical_goods".into()),
        ..Default::default()
    };
    let reg = shared::settings::RegistrationRecord {
        registration: shared::tax::Registration {
            country: "US".into(),
            region: Some("GA".into()),
            effective_from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            effective_to: None,
            collect: true,
        },
        registration_number: None,
    };
    app.store
        .write(vec![
            shared::store::record::put(shared::layout::settings_key(&org), &settings, shared::store::Expect::Any)
                .unwrap(),
            shared::store::record::put(
                shared::layout::registration_key(&org, "US", Some("GA")),
                &reg,
                shared::store::Expect::Any,
            )
            .unwrap(),
            // A synced customer, exempt in Texas only: the request names it, so its record is read (and cached).
            shared::store::record::put(
                shared::layout::customer_key(&org, &ConnectionId::parse("conn_1").unwrap(), "cust_1"),
                &shared::ledger::CustomerRecord {
                    id: "cust_1".into(),
                    legal_name: "Customer".into(),
                    address: None,
                    region: None,
                    tax_status: shared::ledger::CustomerTaxStatus::TaxExempt,
                    tax_ids: vec![],
                    archived: false,
                    content_hash: "h".into(),
                    exempt_jurisdictions: vec!["US-TX".into()],
                },
                shared::store::Expect::Any,
            )
            .unwrap(),
        ])
        .await
        .unwrap();
    let body = r#"{"currency":"usd","tax_date":"2026-11-01","customer_id":"cust_1","customer_address":{"city":"Atlanta","state":"GA","postal_code":"30303","country":"US"},"line_items":[{"product_id":"p1","amount":10000}]}"#;
    let (status, first) = call(&app, "POST", "/tax_api/calculate_tax", Some(&known), body).await;
    assert_eq!(status, 200, "{first}");
    probe.down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(30));
    let (status, during) = call(&app, "POST", "/tax_api/calculate_tax", Some(&known), body).await;
    assert_eq!(status, 200, "a recently verified caller is still answered: {during}");
    assert_eq!(during["data"]["lines"], first["data"]["lines"], "with the same tax, never a silent zero");
    // Taxed in Georgia although the customer is exempt (in Texas only): the cached exemption kept its scope.
    let taxed = during["data"]["lines"][0]["tax_amounts"].as_array().map_or(0, Vec::len);
    assert!(taxed > 0, "{during}");
    let (status, other) = call(&app, "POST", "/tax_api/calculate_tax", Some(&unseen), body).await;
    assert_eq!((status, other["code"].as_str()), (500, Some("internal_server_error")));
}

#[tokio::test]
async fn a_key_over_its_per_minute_limit_gets_429_with_retry_after() {
    let probe = probe();
    let clock = FakeClock::at(1_800_000_000_000);
    // 60 a minute: bursts of 6, then one a second.
    let config = Config { tax_key_requests_per_minute: 60, ..Config::defaults() };
    let app = App::new(config, probe, clock.clone());
    let (busy, _) = issue(&app, "org_a", Mode::Test).await;
    let (other, _) = issue(&app, "org_a", Mode::Test).await;
    for _ in 0..6 {
        assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&busy), "").await.0, 200);
    }
    let resp = tax::handle(
        &tax::State::of(&app).unwrap(),
        http::Request::builder()
            .method("GET")
            .uri("/tax_api/verify")
            .header("x-api-key", &busy)
            .body(Bytes::new())
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(body["code"], "too_many_requests", "{body}");
    // Another key of the same org has its own bucket; the busy one is answered again a second later.
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&other), "").await.0, 200);
    clock.advance(Duration::from_secs(1));
    assert_eq!(call(&app, "GET", "/tax_api/verify", Some(&busy), "").await.0, 200);
}

#[tokio::test]
async fn a_request_reads_its_products_in_one_batch_then_from_the_cache() {
    let (app, clock, probe) = setup();
    let (key, _) = issue(&app, "org_a", Mode::Test).await;
    let org = OrgId::parse("org_a").unwrap();
    let conn = ConnectionId::parse("conn_1").unwrap();
    let settings = shared::settings::SettingsRecord {
        default_product_tax_code: Some("physical_goods".into()),
        ..Default::default()
    };
    app.store
        .write(vec![
            shared::store::record::put(shared::layout::settings_key(&org), &settings, shared::store::Expect::Any)
                .unwrap(),
        ])
        .await
        .unwrap();
    // 300 lines over 150 distinct products (each named twice)
    let lines: Vec<String> =
        (0..300).map(|i| format!(r#"{{"id":"l{i}","product_id":"p{}","amount":100}}"#, i % 150)).collect();
    let body = format!(
        r#"{{"currency":"usd","tax_date":"2026-11-01","customer_address":{{"city":"Atlanta","state":"GA","postal_code":"30303","country":"US"}},"line_items":[{}]}}"#,
        lines.join(",")
    );
    let (status, answer) = call(&app, "POST", "/tax_api/calculate_tax", Some(&key), &body).await;
    assert_eq!(status, 200, "{answer}");
    let product_keys: Vec<Key> = (0..150).map(|i| shared::layout::product_key(&org, &conn, &format!("p{i}"))).collect();
    assert!(!probe.gets.lock().unwrap().iter().any(|k| product_keys.contains(k)), "no product read one by one");
    assert_eq!(*probe.batches.lock().unwrap(), vec![150], "one batch of the distinct products");
    // within the cache bound: no product read at all
    clock.advance(Duration::from_secs(30));
    assert_eq!(call(&app, "POST", "/tax_api/calculate_tax", Some(&key), &body).await.0, 200);
    assert_eq!(probe.batches.lock().unwrap().len(), 1);
}
