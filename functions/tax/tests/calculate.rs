//! `POST /tax_api/calculate_tax` end to end over the embedded store: Sphere's wire shape, tax codes
//! from synced products, registrations, exemption from the synced customer, the calculation record,
//! auth before validation, and two orgs never seeing each other's products or calculations.

use bytes::Bytes;
use serde_json::{Value, json};
use shared::app::App;
use shared::clock::FakeClock;
use shared::config::Config;
use shared::domain::{ConnectionId, Mode, OrgId};
use shared::layout::registration_key;
use shared::layout::{customer_key, product_key};
use shared::ledger::{CustomerRecord, CustomerTaxStatus, ProductRecord};
use shared::settings::RegistrationRecord;
use shared::store::record;
use shared::store::{EmbeddedStore, Expect, ItemStore};
use shared::tax::Registration;

/// 2026-11-26T12:00:00Z
const NOW_MS: i64 = 1_795_694_400_000;

struct Fx {
    app: App<EmbeddedStore>,
    key_a: String,
    key_b: String,
}

async fn product(app: &App<EmbeddedStore>, org: &OrgId, conn: &ConnectionId, id: &str, code: Option<&str>) {
    let p = ProductRecord {
        id: id.into(),
        name: format!("Product {id}"),
        tax_category_id: None,
        updated_at: None,
        tax_code: code.map(Into::into),
        content_hash: "h".into(),
    };
    app.store.write(vec![record::put(product_key(org, conn, id), &p, Expect::Any).unwrap()]).await.unwrap();
}

async fn register(app: &App<EmbeddedStore>, org: &OrgId, country: &str, region: Option<&str>) {
    let r = RegistrationRecord {
        registration: Registration {
            country: country.into(),
            region: region.map(Into::into),
            effective_from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            effective_to: None,
            collect: true,
        },
        registration_number: None,
    };
    app.store.write(vec![record::put(registration_key(org, country, region), &r, Expect::Any).unwrap()]).await.unwrap();
}

async fn fx() -> Fx {
    let dir = std::env::temp_dir().join(format!("tax-calc-{}", shared::domain::new_uuid()));
    let app = App::new(Config::defaults(), EmbeddedStore::open(&dir).unwrap(), FakeClock::at(NOW_MS));
    let mut keys = Vec::new();
    for (org, conn) in [("org_a", "conn_a"), ("org_b", "conn_b")] {
        let (org, conn) = (OrgId::parse(org).unwrap(), ConnectionId::parse(conn).unwrap());
        let (key, parsed) = shared::api_key::generate(Mode::Test, &app.key_pepper);
        shared::api_key::create(&app.store, &parsed, &org, &conn, "t").await.unwrap();
        keys.push(key);
    }
    let (a, ca) = (OrgId::parse("org_a").unwrap(), ConnectionId::parse("conn_a").unwrap());
    product(&app, &a, &ca, "prod_goods", Some("physical_goods")).await;
    product(&app, &a, &ca, "prod_saas", Some("saas")).await;
    product(&app, &a, &ca, "prod_uncoded", None).await;
    register(&app, &a, "US", Some("GA")).await;
    register(&app, &a, "EU", None).await;
    // Empty scope: serialised without the field, byte for byte a record stored before scopes existed.
    let exempt = exempt_customer("cust_exempt", &[]);
    // Exempt in Texas only (a Texas certificate).
    let exempt_tx =
        CustomerRecord { id: "cust_exempt_tx".into(), exempt_jurisdictions: vec!["US-TX".into()], ..exempt.clone() };
    app.store
        .write(vec![
            record::put(customer_key(&a, &ca, "cust_exempt"), &exempt, Expect::Any).unwrap(),
            record::put(customer_key(&a, &ca, "cust_exempt_tx"), &exempt_tx, Expect::Any).unwrap(),
        ])
        .await
        .unwrap();
    Fx { app, key_a: keys.remove(0), key_b: keys.remove(0) }
}

async fn calc(app: &App<EmbeddedStore>, key: &str, body: &str) -> (u16, Value) {
    let req = http::Request::builder()
        .method("POST")
        .uri("/tax_api/calculate_tax")
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_owned()))
        .unwrap();
    let resp = tax::handle(&tax::State::of(app).unwrap(), req).await;
    (resp.status().as_u16(), serde_json::from_slice(resp.body()).unwrap_or(Value::Null))
}

fn atlanta(lines: Value) -> String {
    json!({"currency": "usd", "customer_id": "cust_1",
        "customer_address": {"address1": "55 Trinity Ave SW", "city": "Atlanta", "state": "GA", "postal_code": "30303", "country": "US"},
        "line_items": lines, "tax_date": "2026-11-01", "invoice_id": "inv_1"})
    .to_string()
}

/// A synced Sequence customer marked `TAX_EXEMPT`, exempt where `scopes` say (empty: everywhere).
fn exempt_customer(id: &str, scopes: &[&str]) -> CustomerRecord {
    CustomerRecord {
        id: id.into(),
        legal_name: format!("Customer {id}"),
        address: None,
        region: None,
        tax_status: CustomerTaxStatus::TaxExempt,
        tax_ids: vec![],
        archived: false,
        content_hash: "h".into(),
        exempt_jurisdictions: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[tokio::test]
async fn atlanta_goods_known_answer_in_spheres_shape() {
    let f = fx().await;
    // GA 4 % + Fulton County 3 % + Atlanta 1.9 % = 8.9 % (GAR2026Q2FEB19; see shared/src/tax/tests.rs).
    let (status, body) =
        calc(&f.app, &f.key_a, &atlanta(json!([{"id": "line_1", "product_id": "prod_goods", "amount": 10000}]))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"], "Tax calculated successfully");
    let line = &body["data"]["lines"][0];
    assert_eq!(line["id"], "line_1");
    let amounts: Vec<i64> =
        line["tax_amounts"].as_array().unwrap().iter().map(|a| a["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts.iter().sum::<i64>(), 890);
    let state = &line["tax_amounts"][0];
    assert_eq!(state["taxable_amount"], 10000);
    assert_eq!(state["tax_rate"]["percentage"].to_string(), "4.0", "percent, bounded scale, never 0.04");
    assert_eq!(state["tax_rate"]["country"], "US");
    assert_eq!(state["tax_rate"]["state"], "GA");
    assert_eq!(state["tax_rate"]["tax_type"], "sales_tax");
    assert_eq!(body["data"]["livemode"], false);
    assert!(body["data"]["sphere_tax_calculation_id"].as_str().unwrap().len() == 36);

    // the calculation is recorded for org A only, with its TTL
    let id = body["data"]["sphere_tax_calculation_id"].as_str().unwrap();
    // the record is a deferred write: committed with the writer's next group, within milliseconds
    let mut rec = None;
    for _ in 0..200 {
        rec = shared::calculation_record::get(&f.app.store, &OrgId::parse("org_a").unwrap(), id).await.unwrap();
        if rec.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let rec = rec.expect("calculation record committed");
    assert_eq!((rec.total_tax, rec.invoice_id.as_deref(), rec.livemode), (890, Some("inv_1"), false));
    let item =
        f.app.store.get(&shared::layout::calculation_key(&OrgId::parse("org_a").unwrap(), id)).await.unwrap().unwrap();
    assert_eq!(item.ttl, Some(NOW_MS / 1000 + 90 * 86_400));
    assert!(
        shared::calculation_record::get(&f.app.store, &OrgId::parse("org_b").unwrap(), id).await.unwrap().is_none()
    );
}

#[tokio::test]
async fn lines_keep_request_order_and_ids_default_to_product_id() {
    let f = fx().await;
    let (status, body) = calc(
        &f.app,
        &f.key_a,
        &atlanta(json!([
            {"product_id": "prod_goods", "amount": 5000},
            {"id": "b", "product_id": "prod_goods", "amount": -1000},
            {"id": "c", "product_id": "prod_goods", "amount": 3000, "discount_amount": 1000, "tax_inclusive": false}
        ])),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let lines = body["data"]["lines"].as_array().unwrap();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["prod_goods", "b", "c"]);
    let tax = |i: usize| {
        lines[i]["tax_amounts"].as_array().unwrap().iter().map(|a| a["amount"].as_i64().unwrap()).sum::<i64>()
    };
    assert_eq!(tax(0), 445); // 5000 × 8.9 %
    assert!(tax(1) < 0, "an adjustment line is taxed negatively");
    assert_eq!(lines[2]["tax_amounts"][0]["taxable_amount"], 2000, "discount reduces the taxable amount");
}

#[tokio::test]
async fn not_collecting_exempt_and_reverse_charge_are_empty_with_reasons() {
    let f = fx().await;
    let tx = json!({"currency": "usd", "include_taxability_reason": true,
        "customer_address": {"city": "Austin", "state": "TX", "postal_code": "78701", "country": "US"},
        "line_items": [{"product_id": "prod_goods", "amount": 10000}]});
    let (status, body) = calc(&f.app, &f.key_a, &tx.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]));
    assert_eq!(body["data"]["lines"][0]["taxability_reason"], "not_collecting");

    // the synced Sequence customer is TAX_EXEMPT and the request says nothing
    let mut ga: Value = serde_json::from_str(&atlanta(json!([{"product_id": "prod_goods", "amount": 10000}]))).unwrap();
    ga["customer_id"] = json!("cust_exempt");
    ga["include_taxability_reason"] = json!(true);
    let (_, body) = calc(&f.app, &f.key_a, &ga.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]));
    assert_eq!(body["data"]["lines"][0]["taxability_reason"], "customer_exempt");
    // …unless the request says otherwise
    ga["tax_exempt"] = json!(false);
    let (_, body) = calc(&f.app, &f.key_a, &ga.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"].as_array().unwrap().len(), 3);

    // EU consumer (OSS registration): German VAT 19 %
    let de = json!({"currency": "eur", "tax_date": "2026-11-01",
        "customer_address": {"city": "Berlin", "postal_code": "10115", "country": "DE"},
        "line_items": [{"product_id": "prod_saas", "amount": 10000}]});
    let (_, body) = calc(&f.app, &f.key_a, &de.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"][0]["amount"], 1900);
    assert_eq!(body["data"]["lines"][0]["tax_amounts"][0]["tax_rate"]["tax_type"], "vat");
}

#[tokio::test]
async fn product_codes_and_locations_map_to_spheres_error_codes() {
    let f = fx().await;
    let (status, body) = calc(
        &f.app,
        &f.key_a,
        &atlanta(json!([{"product_id": "prod_uncoded", "amount": 100}, {"product_id": "prod_unknown", "amount": 100}])),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_product_tax_code");
    let m = body["message"].as_str().unwrap();
    assert!(m.contains("prod_uncoded") && m.contains("prod_unknown"), "{m}");

    let nowhere = json!({"currency": "usd", "customer_address": {"country": "US", "state": "ZZ", "postal_code": "00000"}, "line_items": [{"product_id": "prod_goods", "amount": 100}]});
    let (status, body) = calc(&f.app, &f.key_a, &nowhere.to_string()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("customer_tax_location_invalid")), "{body}");

    let pull = json!({"currency": "usd", "pull_customer_address": true, "customer_id": "c", "line_items": [{"product_id": "prod_goods", "amount": 100}]});
    let (status, body) = calc(&f.app, &f.key_a, &pull.to_string()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("unsupported_feature")));
}

#[tokio::test]
async fn authentication_comes_before_validation() {
    let f = fx().await;
    for body in ["", "{", "{}", "not json"] {
        assert_eq!(calc(&f.app, "sphk_test_bad", body).await.0, 401, "bad key, body {body:?}");
        let (status, resp) = calc(&f.app, &f.key_a, body).await;
        assert_eq!((status, resp["code"].as_str()), (400, Some("validation_errors")), "good key, body {body:?}");
    }
}

#[tokio::test]
async fn another_orgs_products_and_settings_are_invisible() {
    let f = fx().await;
    // org B has no products, no registrations: org A's product ids mean nothing to it
    let (status, body) = calc(&f.app, &f.key_b, &atlanta(json!([{"product_id": "prod_goods", "amount": 10000}]))).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_product_tax_code");
    product(
        &f.app,
        &OrgId::parse("org_b").unwrap(),
        &ConnectionId::parse("conn_b").unwrap(),
        "prod_goods",
        Some("physical_goods"),
    )
    .await;
    // written behind the tax endpoint's back: what the console does after its own writes
    f.app.caches.forget_tax_context();
    let (status, body) = calc(&f.app, &f.key_b, &atlanta(json!([{"product_id": "prod_goods", "amount": 10000}]))).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]), "org A's GA registration does not apply to org B");
}

#[tokio::test]
async fn an_exemption_applies_only_in_the_jurisdictions_it_names() {
    let f = fx().await;
    // Exempt in Texas only (extension field `tax_exempt_jurisdictions`): an Atlanta invoice is taxed (8.9 %).
    let mut ga: Value = serde_json::from_str(&atlanta(json!([{"product_id": "prod_goods", "amount": 10000}]))).unwrap();
    ga["tax_exempt"] = json!(true);
    ga["tax_exempt_jurisdictions"] = json!(["US-TX"]);
    ga["include_taxability_reason"] = json!(true);
    let (status, body) = calc(&f.app, &f.key_a, &ga.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let sum: i64 =
        body["data"]["lines"][0]["tax_amounts"].as_array().unwrap().iter().map(|a| a["amount"].as_i64().unwrap()).sum();
    assert_eq!(sum, 890, "{body}");
    // Exempt in Georgia (state) or in the whole US (country): no tax, reason customer_exempt.
    for scope in [json!(["US-GA"]), json!(["us-georgia", "DE"]), json!(["US"])] {
        ga["tax_exempt_jurisdictions"] = scope.clone();
        let (_, body) = calc(&f.app, &f.key_a, &ga.to_string()).await;
        assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]), "{scope}");
        assert_eq!(body["data"]["lines"][0]["taxability_reason"], "customer_exempt", "{scope}");
    }
    // A stored exemption scoped to Texas: the Atlanta invoice is taxed; a legacy stored exemption (no scope) is
    // still exempt everywhere.
    let mut stored: Value =
        serde_json::from_str(&atlanta(json!([{"product_id": "prod_goods", "amount": 10000}]))).unwrap();
    stored["customer_id"] = json!("cust_exempt_tx");
    let (_, body) = calc(&f.app, &f.key_a, &stored.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"].as_array().unwrap().len(), 3, "{body}");
    // …also when the request itself says tax_exempt: true without naming where (the stored scope applies).
    stored["tax_exempt"] = json!(true);
    let (_, body) = calc(&f.app, &f.key_a, &stored.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"].as_array().unwrap().len(), 3, "{body}");
    stored["customer_id"] = json!("cust_exempt");
    let (_, body) = calc(&f.app, &f.key_a, &stored.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]), "{body}");
    stored.as_object_mut().unwrap().remove("tax_exempt");
    let (_, body) = calc(&f.app, &f.key_a, &stored.to_string()).await;
    assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]), "{body}");
    // A scope that names no country is refused, naming the field.
    ga["tax_exempt_jurisdictions"] = json!(["Texas"]);
    let (status, body) = calc(&f.app, &f.key_a, &ga.to_string()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("validation_errors")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("tax_exempt_jurisdictions[0]"), "{body}");
}

#[tokio::test]
async fn an_unreadable_stored_exemption_scope_is_our_fault_not_the_callers() {
    // Only the console writes a customer's scope, validated. A stored scope that does not parse is an internal
    // invariant broken: 500 (logged with the customer id), never 400 validation_errors about a request field.
    let f = fx().await;
    let (a, ca) = (OrgId::parse("org_a").unwrap(), ConnectionId::parse("conn_a").unwrap());
    let broken = exempt_customer("cust_broken", &["Atlantis"]);
    f.app
        .store
        .write(vec![record::put(customer_key(&a, &ca, "cust_broken"), &broken, Expect::Any).unwrap()])
        .await
        .unwrap();
    let mut body: Value =
        serde_json::from_str(&atlanta(json!([{"product_id": "prod_goods", "amount": 10000}]))).unwrap();
    body["customer_id"] = json!("cust_broken");
    let (status, out) = calc(&f.app, &f.key_a, &body.to_string()).await;
    assert_eq!((status, out["code"].as_str()), (500, Some("internal_server_error")), "{out}");
    assert!(!out.to_string().contains("Atlantis"), "no stored data in the error: {out}");
}

#[tokio::test]
async fn a_registered_region_without_rates_is_a_documented_422_naming_it() {
    let f = fx().await;
    let a = OrgId::parse("org_a").unwrap();
    register(&f.app, &a, "US", Some("GU")).await;
    let (b, cb) = (OrgId::parse("org_b").unwrap(), ConnectionId::parse("conn_b").unwrap());
    product(&f.app, &b, &cb, "prod_goods", Some("physical_goods")).await;
    // Guam is a valid US address but no Guam rates are in our data: 422 tax_rates_unavailable naming US-GU,
    // not 500 internal_server_error ("please retry").
    let gu = json!({"currency": "usd", "tax_date": "2026-11-01",
        "customer_address": {"city": "Hagatna", "state": "GU", "postal_code": "96910", "country": "US"},
        "line_items": [{"product_id": "prod_goods", "amount": 10000}]});
    let (status, body) = calc(&f.app, &f.key_a, &gu.to_string()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("tax_rates_unavailable")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("US-GU"), "{body}");
    // The other org is not registered there: the normal not-collecting answer.
    let (status, body) = calc(&f.app, &f.key_b, &gu.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["lines"][0]["tax_amounts"], json!([]));

    // Partial local data is machine-readable: Atlanta has county and city rates, special districts unknown.
    let (_, body) =
        calc(&f.app, &f.key_a, &atlanta(json!([{"id": "line_1", "product_id": "prod_goods", "amount": 10000}]))).await;
    assert_eq!(body["data"]["missing_jurisdiction_types"], json!(["special_district"]));
}
