//! Console routes over the embedded store: API keys shown once and stored only hashed, revocation,
//! disconnect, "sync now", and tenant isolation (another org's ids are 404 on every route).

mod common;

use bytes::Bytes;
use shared::app::App;
use shared::clock::FakeClock;
use shared::config::Config;
use shared::domain::ConnectionId;
use shared::org::Principal;
use shared::queue::MemoryQueue;
use shared::store::{EmbeddedStore, Expect, ItemStore, SecretStore, SecretValue};
use std::path::PathBuf;
use std::sync::Arc;

struct Fixture {
    app: App<EmbeddedStore>,
    dir: PathBuf,
    queue: Arc<MemoryQueue>,
    a: Principal,
    b: Principal,
    conn: ConnectionId,
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("connect-console-{}", shared::domain::new_uuid()));
    let queue = Arc::new(MemoryQueue::default());
    let app = App::new(Config::defaults(), EmbeddedStore::open(&dir).unwrap(), FakeClock::at(1_800_000_000_000))
        .with_queue(queue.clone());
    let (a, b) = common::alice_and_bob();
    let rec = common::acme(&a.org, 1);
    let conn = rec.connection_id.clone();
    app.store.write(vec![rec.put(Expect::Absent).unwrap()]).await.unwrap();
    app.store.put_secret(&rec.secret_name, &SecretValue::new("seq-secret-xyz"), &a.org).await.unwrap();
    Fixture { app, dir, queue, a, b, conn }
}

async fn call(f: &Fixture, who: &Principal, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let req = http::Request::builder().method(method).uri(path).body(Bytes::from(body.to_owned())).unwrap();
    let resp = connect::handle(&f.app, who.clone(), req).await;
    (resp.status().as_u16(), serde_json::from_slice(resp.body()).unwrap_or_default())
}

#[tokio::test]
async fn api_key_is_shown_once_stored_hashed_and_revocable() {
    let f = fixture().await;
    let base = format!("/v1/sequence/connections/{}/api-keys", f.conn);
    let (status, created) = call(&f, &f.a, "POST", &base, "").await;
    assert_eq!(status, 201, "{created}");
    let key = created["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sphk_test_"));
    assert_eq!(created["key"]["livemode"], false);

    let (status, listed) = call(&f, &f.a, "GET", &base, "").await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&key[10..]), "listing never shows the key");

    // the store holds the hash, never the key
    drop(f.app.store.clone());
    let raw = std::fs::read(f.dir.join("store.redb")).unwrap();
    assert!(!raw.windows(key.len()).any(|w| w == key.as_bytes()), "key in clear in the store");
    assert!(!raw.windows(14).any(|w| w == b"seq-secret-xyz"), "Sequence secret in clear in the store");

    // the key works on the tax API, and stops after revocation + the cache bound
    let verify = |k: String| {
        let app = f.app.clone();
        async move {
            let req =
                http::Request::builder().uri("/tax_api/verify").header("x-api-key", k).body(Bytes::new()).unwrap();
            tax::handle(&tax::State::of(&app).unwrap(), req).await.status().as_u16()
        }
    };
    assert_eq!(verify(key.clone()).await, 200);
    let key_id = created["key"]["id"].as_str().unwrap();
    let (status, revoked) = call(&f, &f.a, "DELETE", &format!("{base}/{key_id}"), "").await;
    assert_eq!(status, 200);
    assert!(revoked["key"]["revoked_at"].is_string());
    assert_eq!(call(&f, &f.a, "DELETE", &format!("{base}/key_nope"), "").await.0, 404);
    let fresh_app = App::new(Config::defaults(), f.app.store.clone(), FakeClock::at(1_800_000_000_000));
    let req = http::Request::builder().uri("/tax_api/verify").header("x-api-key", &key).body(Bytes::new()).unwrap();
    assert_eq!(
        tax::handle(&tax::State::of(&fresh_app).unwrap(), req).await.status(),
        401,
        "revoked key refused once uncached"
    );

    let (_, audit) = call(&f, &f.a, "GET", "/v1/audit", "").await;
    let actions: Vec<_> =
        audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["api_key.revoke", "api_key.create"]);
    assert!(!audit.to_string().contains(&key[10..]));
}

#[tokio::test]
async fn other_orgs_cannot_read_change_or_detect_a_connection() {
    let f = fixture().await;
    let c = &f.conn;
    let routes = [
        ("GET", format!("/v1/sequence/connections/{c}")),
        ("DELETE", format!("/v1/sequence/connections/{c}")),
        ("POST", format!("/v1/sequence/connections/{c}/sync")),
        ("POST", format!("/v1/sequence/connections/{c}/api-keys")),
        ("GET", format!("/v1/sequence/connections/{c}/api-keys")),
        ("DELETE", format!("/v1/sequence/connections/{c}/api-keys/key_x")),
        ("GET", format!("/v1/sequence/connections/{c}/quarantine")),
    ];
    for (m, p) in &routes {
        let (status, body) = call(&f, &f.b, m, p, "").await;
        assert_eq!(status, 404, "{m} {p}: {body}");
        assert_eq!(
            body,
            call(&f, &f.b, m, &p.replace("conn_a1", "conn_zz"), "").await.1,
            "indistinguishable from absent"
        );
    }
    let (_, listed) = call(&f, &f.b, "GET", "/v1/sequence/connections", "").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    // ledger queries: naming another org's connection is a 404; without one, org B sees nothing
    for p in [format!("/v1/ledger/transactions?connection={c}"), format!("/v1/ledger/summary?connection={c}")] {
        assert_eq!(call(&f, &f.b, "GET", &p, "").await.0, 404, "{p}");
    }
    assert_eq!(call(&f, &f.b, "GET", "/v1/ledger/transactions/invoice:inv-1", "").await.0, 404);
    let (_, own) = call(&f, &f.b, "GET", "/v1/ledger/transactions", "").await;
    assert_eq!(own["items"].as_array().unwrap().len(), 0);
    // and org A still has its connection, untouched
    let (status, got) = call(&f, &f.a, "GET", &format!("/v1/sequence/connections/{c}"), "").await;
    assert_eq!((status, got["status"].as_str()), (200, Some("active")));
    assert!(f.queue.jobs().is_empty());
}

#[tokio::test]
async fn sync_now_queues_and_disconnect_revokes_keys_stops_sync_and_deletes_the_secret() {
    let f = fixture().await;
    let c = &f.conn;
    assert_eq!(call(&f, &f.a, "POST", &format!("/v1/sequence/connections/{c}/sync"), "").await.0, 202);
    assert_eq!(f.queue.jobs()[0].connection_id, *c);
    let (_, created) = call(&f, &f.a, "POST", &format!("/v1/sequence/connections/{c}/api-keys"), "").await;
    let key = created["api_key"].as_str().unwrap().to_owned();

    let (status, after) = call(&f, &f.a, "DELETE", &format!("/v1/sequence/connections/{c}"), "").await;
    assert_eq!(status, 200);
    assert_eq!(after["status"], "disconnected");
    let (_, keys) = call(&f, &f.a, "GET", &format!("/v1/sequence/connections/{c}/api-keys"), "").await;
    assert!(keys["items"][0]["revoked_at"].is_string());
    assert!(f.app.store.get_secret("sphere/sequence/org_a/conn_a1").await.unwrap().is_none());
    assert!(shared::connection::due(&f.app.store, i64::MAX / 2, 10).await.unwrap().is_empty(), "no longer due");
    assert_eq!(call(&f, &f.a, "POST", &format!("/v1/sequence/connections/{c}/sync"), "").await.0, 409);
    let fresh_app = App::new(Config::defaults(), f.app.store.clone(), FakeClock::at(1_800_000_000_000));
    let req = http::Request::builder().uri("/tax_api/verify").header("x-api-key", &key).body(Bytes::new()).unwrap();
    assert_eq!(tax::handle(&tax::State::of(&fresh_app).unwrap(), req).await.status(), 401);
}

#[tokio::test]
async fn unknown_routes_and_bad_ids_are_404() {
    let f = fixture().await;
    assert_eq!(call(&f, &f.a, "GET", "/v1/nope", "").await.0, 404);
    assert_eq!(call(&f, &f.a, "GET", "/v1/sequence/connections/bad%23id", "").await.0, 404);
    assert_eq!(call(&f, &f.a, "PATCH", "/v1/sequence/connections", "").await.0, 404);
}

/// The coverage the console shows is the loaded content's, state by state, and says where local taxes
/// are not charged.
#[tokio::test]
async fn tax_coverage_lists_every_state_and_the_gaps() {
    let f = fixture().await;
    let (status, cov) = call(&f, &f.a, "GET", "/v1/tax-coverage", "").await;
    assert_eq!(status, 200, "{cov}");
    let rows = cov["us"].as_array().unwrap();
    assert!(rows.len() >= 51, "50 states and DC");
    let row = |s: &str| rows.iter().find(|r| r["state"] == s).unwrap().clone();
    assert_eq!(row("OR")["local"], "no_local_tax");
    assert_eq!(row("TX")["local"], "local_tables");
    assert!(row("TX")["local_jurisdictions"].as_u64().unwrap() > 100);
    let gaps = rows.iter().filter(|r| r["local"] == "state_rate_only" || r["local"] == "statewide_only").count();
    assert_eq!(cov["states_without_local_data"].as_u64().unwrap(), u64::try_from(gaps).unwrap());
    // Every state with local taxes has local data (issue 15); Washington's comes from the county / city tables.
    assert_eq!(gaps, 0, "{cov}");
    assert_eq!(row("WA")["local"], "county_city");
    assert_eq!(call(&f, &f.a, "POST", "/v1/tax-coverage", "").await.0, 404);
}

#[tokio::test]
async fn settings_registrations_tax_codes_and_product_codes() {
    let f = fixture().await;
    let (status, codes) = call(&f, &f.a, "GET", "/v1/tax-codes", "").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = codes["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    for id in [
        "physical_goods",
        "saas",
        "digital_services",
        "software_download",
        "professional_services",
        "training",
        "support_maintenance",
        "shipping",
        "non_taxable",
    ] {
        assert!(ids.contains(&id), "{id}");
    }

    // settings: defaults, partial update, null clears, validation
    let (_, s) = call(&f, &f.a, "GET", "/v1/settings", "").await;
    assert_eq!(s["rounding"], "line");
    let (status, s) =
        call(&f, &f.a, "PUT", "/v1/settings", r#"{"rounding":"document","default_product_tax_code":"saas"}"#).await;
    assert_eq!(
        (status, s["rounding"].as_str(), s["default_product_tax_code"].as_str()),
        (200, Some("document"), Some("saas"))
    );
    let (_, s) = call(&f, &f.a, "PUT", "/v1/settings", r#"{"default_product_tax_code":null}"#).await;
    assert!(s["default_product_tax_code"].is_null());
    assert_eq!(s["rounding"], "document", "partial update keeps other fields");
    for bad in [
        r#"{"rounding":"up"}"#,
        r#"{"default_product_tax_code":"beer"}"#,
        r#"{"org_id":"x"}"#,
        r#"{"origin_address":{"country":"USA"}}"#,
    ] {
        assert_eq!(call(&f, &f.a, "PUT", "/v1/settings", bad).await.0, 400, "{bad}");
    }

    // registrations
    let (status, r) = call(
        &f,
        &f.a,
        "PUT",
        "/v1/registrations/us/mn",
        r#"{"effective_from":"2024-01-01","collect":true,"registration_number":"MN-123"}"#,
    )
    .await;
    assert_eq!((status, r["country"].as_str(), r["region"].as_str()), (200, Some("US"), Some("MN")));
    assert_eq!(
        call(&f, &f.a, "PUT", "/v1/registrations/EU", r#"{"effective_from":"2024-01-01","collect":true}"#).await.0,
        200
    );
    assert_eq!(
        call(&f, &f.a, "PUT", "/v1/registrations/US", r#"{"effective_from":"2024-01-01","collect":true}"#).await.0,
        400
    );
    assert_eq!(
        call(
            &f,
            &f.a,
            "PUT",
            "/v1/registrations/US/TX",
            r#"{"effective_from":"2024-02-01","effective_to":"2024-01-01","collect":true}"#
        )
        .await
        .0,
        400
    );
    let (_, list) = call(&f, &f.a, "GET", "/v1/registrations", "").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (_, other) = call(&f, &f.b, "GET", "/v1/registrations", "").await;
    assert!(other["items"].as_array().unwrap().is_empty(), "org B sees none of org A's registrations");
    assert_eq!(call(&f, &f.b, "DELETE", "/v1/registrations/US/MN", "").await.0, 404);
    assert_eq!(call(&f, &f.a, "DELETE", "/v1/registrations/US/MN", "").await.0, 200);

    // products: synced records get a tax code; unknown codes and other orgs are refused
    let p = shared::ledger::ProductRecord {
        id: "prod-1".into(),
        name: "Platform".into(),
        tax_category_id: Some("cat".into()),
        updated_at: None,
        tax_code: None,
        content_hash: "h".into(),
    };
    f.app
        .store
        .write(vec![
            shared::store::record::put(shared::layout::product_key(&f.a.org, &f.conn, "prod-1"), &p, Expect::Absent)
                .unwrap(),
        ])
        .await
        .unwrap();
    let (_, products) = call(&f, &f.a, "GET", "/v1/products", "").await;
    assert_eq!(products["items"][0]["product_id"], "prod-1");
    assert_eq!(products["items"][0]["connection_id"], f.conn.as_str());
    assert_eq!(call(&f, &f.a, "PUT", "/v1/products/prod-1/tax-code", r#"{"tax_code":"beer"}"#).await.0, 400);
    assert_eq!(call(&f, &f.b, "PUT", "/v1/products/prod-1/tax-code", r#"{"tax_code":"saas"}"#).await.0, 404);
    assert_eq!(call(&f, &f.b, "GET", "/v1/products", "").await.1["items"].as_array().unwrap().len(), 0);
    let (status, set) = call(&f, &f.a, "PUT", "/v1/products/prod-1/tax-code", r#"{"tax_code":"saas"}"#).await;
    assert_eq!((status, set["items"][0]["tax_code"].as_str()), (200, Some("saas")));
    let (_, products) = call(&f, &f.a, "GET", "/v1/products", "").await;
    assert_eq!(products["items"][0]["tax_code"], "saas");

    // customers: an exemption is scoped to the jurisdictions the user names (canonical codes); bad scopes and
    // other orgs are refused; [] = everywhere again
    let c = shared::ledger::CustomerRecord {
        id: "cust-1".into(),
        legal_name: "School".into(),
        address: None,
        region: None,
        tax_status: shared::ledger::CustomerTaxStatus::TaxExempt,
        tax_ids: vec![],
        archived: false,
        content_hash: "h".into(),
        exempt_jurisdictions: vec![],
    };
    let ck = shared::layout::customer_key(&f.a.org, &f.conn, "cust-1");
    f.app.store.write(vec![shared::store::record::put(ck.clone(), &c, Expect::Absent).unwrap()]).await.unwrap();
    let path = "/v1/customers/cust-1/exemption";
    assert_eq!(call(&f, &f.a, "PUT", path, r#"{"jurisdictions":["Texas"]}"#).await.0, 400);
    assert_eq!(call(&f, &f.b, "PUT", path, r#"{"jurisdictions":["US-TX"]}"#).await.0, 404);
    let (status, set) = call(&f, &f.a, "PUT", path, r#"{"jurisdictions":["us-texas","DE","US-TX"]}"#).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["items"][0]["exempt_jurisdictions"], serde_json::json!(["US-TX", "DE"]));
    let stored: shared::ledger::CustomerRecord =
        shared::store::record::get(&f.app.store, &ck).await.unwrap().unwrap().value;
    assert_eq!(stored.exempt_jurisdictions, vec!["US-TX".to_owned(), "DE".to_owned()]);
    let (_, set) = call(&f, &f.a, "PUT", path, r#"{"jurisdictions":[]}"#).await;
    assert_eq!(set["items"][0]["exempt_jurisdictions"], serde_json::json!([]));
}

#[tokio::test]
async fn quarantined_documents_are_listed_with_their_reason_never_their_body_and_paged() {
    let f = fixture().await;
    let c = &f.conn;
    let base = format!("/v1/sequence/connections/{c}/quarantine");
    let (status, empty) = call(&f, &f.a, "GET", &base, "").await;
    assert_eq!(
        (status, empty["items"].as_array().map(Vec::len), &empty["next"]),
        (200, Some(0), &serde_json::Value::Null)
    );

    // what a sync run writes for documents it cannot map (under its lease)
    let ledger = shared::ledger::Ledger::new(&f.app.store, f.a.org.clone(), c.clone());
    let lease_key = shared::layout::lease_key(&f.a.org, c);
    let guard = shared::store::lease::acquire(&f.app.store, &lease_key, "run", 0, 60_000).await.unwrap().unwrap();
    for (kind, id, reason) in [
        ("customer", "cust-7", "unknown customer tax status \"TAX_HOLIDAY\""),
        ("invoice", "inv-1", "unknown invoice status \"ARCHIVED\""),
        ("invoice", "inv-2", "currency \"XXX\" is not supported"),
    ] {
        let rec = shared::ledger::QuarantineRecord {
            kind: kind.into(),
            source_id: id.into(),
            reason: reason.into(),
            content_hash: "h".into(),
            document: serde_json::json!({"id": id, "customerLegalCompanyName": "Private Customer Ltd"}),
            recorded_at_ms: 1_800_000_000_000,
            attempts: 2,
            last_attempt_ms: 1_800_000_360_000,
        };
        ledger.quarantine(&guard, rec).await.unwrap();
    }

    let (status, first) = call(&f, &f.a, "GET", &format!("{base}?limit=2"), "").await;
    assert_eq!(status, 200, "{first}");
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "customer");
    assert_eq!(items[0]["stream"], "customers");
    assert_eq!(items[0]["sequence_id"], "cust-7");
    assert_eq!(items[0]["reason"], "unknown customer tax status \"TAX_HOLIDAY\"");
    assert_eq!(items[0]["recorded_at"], "2027-01-15T08:00:00.000Z");
    assert_eq!(items[1]["stream"], "invoices");
    assert!(!first.to_string().contains("Private Customer Ltd"), "never the document: {first}");
    let next = first["next"].as_str().unwrap();
    let (_, second) = call(&f, &f.a, "GET", &format!("{base}?limit=2&after={next}"), "").await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (second["items"][0]["sequence_id"].as_str(), &second["next"]),
        (Some("inv-2"), &serde_json::Value::Null)
    );

    // bad paging input is a 400; a cursor that is not a quarantine position never reaches the store
    for q in ["limit=0", "limit=101", "limit=x", "after=%%%", "after=VFhOI2ludm9pY2UjaW52LTE"] {
        assert_eq!(call(&f, &f.a, "GET", &format!("{base}?{q}"), "").await.0, 400, "{q}");
    }
    // org B sees nothing of it, even naming the connection
    assert_eq!(call(&f, &f.b, "GET", &base, "").await.0, 404);
}

#[tokio::test]
async fn products_are_listed_a_page_at_a_time() {
    let f = fixture().await;
    let mut ops = Vec::new();
    for i in 0..120 {
        let p = shared::ledger::ProductRecord {
            id: format!("prod-{i:03}"),
            name: format!("Product {i}"),
            tax_category_id: None,
            updated_at: None,
            tax_code: None,
            content_hash: "h".into(),
        };
        let key = shared::layout::product_key(&f.a.org, &f.conn, &p.id);
        ops.push(shared::store::record::put(key, &p, Expect::Absent).unwrap());
    }
    for chunk in ops.chunks(20) {
        f.app.store.write(chunk.to_vec()).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut path = "/v1/products".to_owned();
    let mut sizes = Vec::new();
    for _ in 0..10 {
        let (status, page) = call(&f, &f.a, "GET", &path, "").await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        sizes.push(items.len());
        seen.extend(items.iter().map(|p| p["product_id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(n) => path = format!("/v1/products?after={n}"),
            None => break,
        }
    }
    assert_eq!(sizes, vec![50, 50, 20], "default pages of 50");
    let mut expected: Vec<String> = (0..120).map(|i| format!("prod-{i:03}")).collect();
    expected.sort();
    assert_eq!(seen, expected, "every product once, in order");
    assert_eq!(call(&f, &f.a, "GET", "/v1/products?limit=100", "").await.1["items"].as_array().unwrap().len(), 100);
    // a cursor that is not a product cursor, and a limit out of range, are refused
    let forged = "UVVBUkFOVElORSN4"; // base64url("QUARANTINE#x")
    assert_eq!(call(&f, &f.a, "GET", &format!("/v1/products?after={forged}"), "").await.0, 400);
    assert_eq!(call(&f, &f.a, "GET", "/v1/products?limit=101", "").await.0, 400);
}
