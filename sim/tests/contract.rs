//! The simulator's own contract: ordering, cursor pagination (including 250 documents sharing one
//! timestamp), status and date filters, auth per environment, versioning, rate limiting, determinism,
//! the `/_sim/` control API, and Part 2 (Test credentials + tax calculation against a fake tax API).
//! Read through the connector's own client (`shared::sequence`, as `seq`), so the pair is tested too.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use chrono::NaiveDate;
use sequence_sim::wire::{self, Address, TaxStatus};
use sequence_sim::*;
use shared::clock::FakeClock;
use shared::domain::{Decimal, Environment};
use shared::sequence::{self as seq, ClientOptions, ListQuery, Page, RateLimiter, SequenceClient, SequenceError};
use shared::sequence::{CreditNoteQuery, CustomerQuery, InvoiceQuery, ProductQuery};
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

fn spec() -> SeedSpec {
    SeedSpec { customers: 40, invoices: 200, credit_note_pct: 25, anchor: Some(anchor()), ..SeedSpec::default() }
}

async fn start(data: Option<SeedSpec>) -> SimHandle {
    Simulator::start(SimOptions { data, seed: 7, ..SimOptions::default() }).await.unwrap()
}

fn client(sim: &SimHandle, env: Environment) -> SequenceClient {
    let clock = FakeClock::at(1_780_000_000_000);
    SequenceClient::with_options(
        &sim.credentials(env).to_client_credentials(),
        ClientOptions::with_base_url(sim.base_url(env))
            .clock(clock.clone())
            .limiter(Arc::new(RateLimiter::with_burst(100_000, 10_000, clock))),
    )
    .unwrap()
}

/// How many invoices the sandbox holds (the seed's plus the hard cases, less the deleted one).
fn invoice_count(sim: &SimHandle) -> usize {
    sim.state.with(|w| w.accounts[0].invoices.len())
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[tokio::test]
async fn identical_timestamps_across_page_boundaries_are_complete_both_ways() {
    let sim = start(None).await;
    let ts = chrono::DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z").unwrap().to_utc();
    let ids = sim.state.bulk_invoices(BulkInvoices { count: 250, created_at: Some(ts), ..Default::default() }).unwrap();
    let c = client(&sim, Environment::Sandbox);
    let desc = c.all_invoices(&InvoiceQuery::new().limit(100)).await.unwrap();
    let asc = c.all_invoices(&InvoiceQuery::new().limit(100).ascending()).await.unwrap();
    assert_eq!(desc.len(), 250);
    assert_eq!(asc.len(), 250);
    let unique: HashSet<&str> = desc.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(unique.len(), 250);
    assert!(desc.iter().all(|i| i.created_at == ts));
    let asc_ids: Vec<&str> = asc.iter().map(|i| i.id.as_str()).collect();
    let mut desc_rev: Vec<&str> = desc.iter().map(|i| i.id.as_str()).collect();
    desc_rev.reverse();
    assert_eq!(asc_ids, desc_rev);
    assert_eq!(asc_ids, ids.iter().map(String::as_str).collect::<Vec<_>>(), "ties break by creation order");
    // Odd page sizes too.
    assert_eq!(c.all_invoices(&InvoiceQuery::new().limit(7)).await.unwrap().len(), 250);
}

#[tokio::test]
async fn default_order_is_newest_created_first() {
    let sim = start(Some(spec())).await;
    let c = client(&sim, Environment::Sandbox);
    let all = c.all_invoices(&InvoiceQuery::new()).await.unwrap();
    assert_eq!(all.len(), invoice_count(&sim));
    assert!(all.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    let asc = c.all_invoices(&InvoiceQuery::new().ascending()).await.unwrap();
    assert!(asc.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    let customers = c.all_customers(&CustomerQuery::default()).await.unwrap();
    assert!(customers.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    // Default limit without `limit` is a short page, with a cursor.
    let raw: Page<seq::Invoice> = c.list_page("/invoices", &NoLimit, None).await.unwrap();
    assert_eq!(raw.items.len(), 20);
    assert!(raw.after.is_some());
}

struct NoLimit;
impl ListQuery for NoLimit {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[tokio::test]
async fn status_filters_partition_the_documents() {
    let sim = start(Some(spec())).await;
    let c = client(&sim, Environment::Sandbox);
    let mut total = 0;
    for s in seq::InvoiceStatus::KNOWN {
        let got = c.all_invoices(&InvoiceQuery::new().status(s.clone())).await.unwrap();
        assert!(got.iter().all(|i| &i.status == s));
        assert!(!got.is_empty(), "{s}");
        if matches!(s, seq::InvoiceStatus::Draft | seq::InvoiceStatus::InProgress) {
            assert!(got.iter().all(|i| i.invoice_number.is_none()));
        } else {
            assert!(got.iter().all(|i| i.invoice_number.is_some()));
        }
        total += got.len();
    }
    assert_eq!(total, invoice_count(&sim));
    let all_cn = c.all_credit_notes(&CreditNoteQuery::new()).await.unwrap();
    let mut cn_total = 0;
    for s in seq::CreditNoteStatus::KNOWN {
        let got = c.all_credit_notes(&CreditNoteQuery::new().status(s.clone())).await.unwrap();
        assert!(got.iter().all(|n| &n.status == s));
        assert!(!got.is_empty(), "{s}: the hard cases hold every credit-note status");
        cn_total += got.len();
    }
    assert_eq!(cn_total, all_cn.len());
    // Customer filter.
    let first = &c.all_invoices(&InvoiceQuery::new().limit(1)).await.unwrap()[0];
    let theirs = c.all_invoices(&InvoiceQuery::new().customer(&first.customer_id)).await.unwrap();
    assert!(theirs.iter().all(|i| i.customer_id == first.customer_id));
}

#[tokio::test]
async fn date_filters_are_inclusive_and_match_the_data() {
    let sim = start(Some(spec())).await;
    let c = client(&sim, Environment::Sandbox);
    let all = c.all_invoices(&InvoiceQuery::new()).await.unwrap();
    let (from, to) = (d(2026, 3, 1), d(2026, 3, 31));
    let march = c.all_invoices(&InvoiceQuery::new().invoice_after(from).invoice_before(to)).await.unwrap();
    let expected = all.iter().filter(|i| i.issue_date.is_some_and(|x| x >= from && x <= to)).count();
    assert_eq!(march.len(), expected);
    assert!(expected > 0);
    // Sent date: only SENT (or voided-after-sending) invoices carry one.
    let sent = c.all_invoices(&InvoiceQuery::new().sent_after(from).sent_before(to)).await.unwrap();
    assert!(sent.iter().all(|i| matches!(i.status, seq::InvoiceStatus::Sent | seq::InvoiceStatus::Voided)));
    let expected_sent = sim
        .state
        .with(|w| w.accounts[0].invoices.iter().filter(|r| r.sent_on.is_some_and(|x| x >= from && x <= to)).count());
    assert_eq!(sent.len(), expected_sent);
    // A single day, inclusive on both ends.
    let day = march.first().and_then(|i| i.issue_date).unwrap();
    let one = c.all_invoices(&InvoiceQuery::new().invoice_after(day).invoice_before(day)).await.unwrap();
    assert!(!one.is_empty() && one.iter().all(|i| i.issue_date == Some(day)));
    // Credit notes by sent date.
    let cns = c
        .all_credit_notes(&CreditNoteQuery::new().sent_after(d(2026, 1, 1)).sent_before(d(2026, 6, 30)))
        .await
        .unwrap();
    let expected_cn = sim.state.with(|w| {
        w.accounts[0]
            .credit_notes
            .iter()
            .filter(|r| r.sent_on.is_some_and(|x| x >= d(2026, 1, 1) && x <= d(2026, 6, 30)))
            .count()
    });
    assert_eq!(cns.len(), expected_cn);
    // Combined with ASC and pagination.
    let asc =
        c.all_invoices(&InvoiceQuery::new().invoice_after(from).invoice_before(to).ascending().limit(3)).await.unwrap();
    assert_eq!(asc.len(), expected);
}

#[tokio::test]
async fn invalid_parameters_and_versions_are_400_in_sequence_shape() {
    let sim = start(None).await;
    let creds = sim.credentials(Environment::Sandbox);
    let http = reqwest::Client::new();
    let get = |q: &str, version: Option<&str>| {
        let mut r = http
            .get(format!("{}/invoices?{q}", sim.sandbox_url()))
            .basic_auth(&creds.client_id, Some(&creds.client_secret));
        if let Some(v) = version {
            r = r.header("Sequence-Version", v);
        }
        r.send()
    };
    for q in ["limit=0", "limit=101", "sortOrder=UP", "invoiceStatus=BOGUS", "invoiceAfter=2026/01/01", "after=garbage"]
    {
        let r = get(q, None).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["type"].is_string() && body["error"]["message"].is_string(), "{q}: {body}");
    }
    let ok = get("limit=5", None).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["sequence-version"], "2024-07-30");
    assert_eq!(get("limit=5", Some("2024-07-30")).await.unwrap().status(), 200);
    let bad = get("limit=5", Some("2023-01-01")).await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["type"], "UnrecognisedApiVersion");
    // No credentials at all.
    let r = http.get(format!("{}/invoices", sim.sandbox_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "Unauthorized");
    assert_eq!(http.get(format!("http://{}/staging/api/invoices", sim.addr)).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_key() {
    let sim = Simulator::start(SimOptions { rate_limit_per_minute: Some(3), ..SimOptions::default() }).await.unwrap();
    let http = reqwest::Client::new();
    let call = |env: Environment| {
        let c = sim.credentials(env);
        http.get(format!("{}/sequence-accounts", sim.base_url(env)))
            .basic_auth(c.client_id, Some(c.client_secret))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(call(Environment::Sandbox).await.unwrap().status(), 200);
    }
    let r = call(Environment::Sandbox).await.unwrap();
    assert_eq!(r.status(), 429);
    let secs: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&secs));
    // Another key has its own bucket.
    assert_eq!(call(Environment::Production).await.unwrap().status(), 200);
    sim.state.set_rate_limit(None);
    assert_eq!(call(Environment::Sandbox).await.unwrap().status(), 200);
    assert_eq!(sim.state.stats().served_429, 1);
}

#[tokio::test]
async fn accounts_are_isolated() {
    let sim = start(Some(spec())).await;
    let extra = sim.state.add_account(Environment::Sandbox, "Second Merchant Ltd");
    let c =
        SequenceClient::with_options(&extra.to_client_credentials(), ClientOptions::with_base_url(sim.sandbox_url()))
            .unwrap();
    assert_eq!(c.verify_credentials().await.unwrap().unwrap().id, extra.account_id);
    assert!(c.all_invoices(&InvoiceQuery::new()).await.unwrap().is_empty());
    let main = client(&sim, Environment::Sandbox);
    let some = &main.all_invoices(&InvoiceQuery::new().limit(1)).await.unwrap()[0];
    assert!(matches!(c.get_invoice(&some.id).await, Err(SequenceError::Client { status: 404, .. })));
    let prod = client(&sim, Environment::Production);
    let prod_ids: HashSet<String> =
        prod.all_invoices(&InvoiceQuery::new()).await.unwrap().into_iter().map(|i| i.id).collect();
    assert!(!prod_ids.contains(&some.id));
}

#[tokio::test]
async fn seeding_is_deterministic() {
    let a = start(Some(spec())).await;
    let b = start(Some(spec())).await;
    let other = Simulator::start(SimOptions { data: Some(spec()), seed: 8, ..SimOptions::default() }).await.unwrap();
    let snapshot = |s: &SimHandle| {
        s.state.with(|w| {
            w.accounts[0]
                .invoices
                .iter()
                .map(|r| (r.invoice.id.clone(), r.invoice.gross_total, r.invoice.status))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(snapshot(&a), snapshot(&b));
    assert_ne!(snapshot(&a), snapshot(&other));
    // Secrets are never derived from the seed.
    assert_ne!(a.credentials(Environment::Sandbox).client_secret, b.credentials(Environment::Sandbox).client_secret);
    // The seeded account spans the regions the connector must handle.
    let countries: HashSet<String> =
        a.state.with(|w| w.accounts[0].customers.iter().map(|c| c.customer.address.country.clone()).collect());
    for cc in ["US", "CA", "GB", "DE"] {
        assert!(countries.contains(cc), "{cc}");
    }
}

#[tokio::test]
async fn control_api_creates_finalises_voids_and_credits() {
    let sim = start(None).await;
    let http = reqwest::Client::new();
    let ctl = sim.control_url();
    let post = |path: &str, body: serde_json::Value| http.post(format!("{ctl}{path}")).json(&body).send();
    let cu: serde_json::Value = post("/customers", serde_json::json!({
        "legalName": "Texas Widgets Inc",
        "address": {"line1": "1 Congress Ave", "town": "Austin", "state": "TX", "postcode": "78701", "country": "US"}
    }))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let pr: serde_json::Value =
        post("/products", serde_json::json!({"name": "Widgets"})).await.unwrap().json().await.unwrap();
    let created: serde_json::Value = post(
        "/invoices",
        serde_json::json!({
            "customerId": cu["id"], "lines": [{"productId": pr["id"], "quantity": "3", "rate": "10.50"}]
        }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(created["tax"]["status"], "not_configured");
    let inv = &created["invoice"]["invoice"];
    assert_eq!(inv["status"], "DRAFT");
    assert_eq!(inv["netTotal"], "31.50");
    assert_eq!(inv["totalTax"], "1.97"); // 6.25 % Texas in the simulator's own table
    let id = inv["id"].as_str().unwrap().to_owned();

    let r = post(&format!("/invoices/{id}/void"), serde_json::json!({})).await.unwrap();
    assert_eq!(r.status(), 409, "drafts cannot be voided");
    let fin: serde_json::Value = post(&format!("/invoices/{id}/finalise"), serde_json::json!({"send": true}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fin["invoice"]["status"], "SENT");
    assert_eq!(fin["invoice"]["invoiceNumber"], "INV-00001");
    let cn: serde_json::Value =
        post("/credit-notes", serde_json::json!({"invoiceId": id})).await.unwrap().json().await.unwrap();
    assert_eq!(cn["creditNote"]["status"], "SENT");
    assert_eq!(cn["creditNote"]["grossTotal"], "33.47");
    assert_eq!(cn["lines"][0]["lineItemId"], fin["lines"][0]["id"]);
    let voided: serde_json::Value =
        post(&format!("/invoices/{id}/void"), serde_json::json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(voided["invoice"]["status"], "VOIDED");

    // Visible through the public API.
    let c = client(&sim, Environment::Sandbox);
    let got = c.get_invoice(&id).await.unwrap();
    assert_eq!(got.status, seq::InvoiceStatus::Voided);
    assert!(got.updated_at >= got.created_at);
    let notes = c.all_credit_notes(&CreditNoteQuery::new()).await.unwrap();
    assert_eq!(notes[0].invoice_id.as_deref(), Some(id.as_str()));

    // Faults through HTTP.
    let f: serde_json::Value = post("/faults", serde_json::json!({"throttle_next": 1, "retry_after_secs": 2}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["throttle_next"], 1);
    assert_eq!(sim.state.faults().retry_after_secs, Some(2));
    http.delete(format!("{ctl}/faults")).send().await.unwrap();
    assert_eq!(sim.state.faults(), Faults::default());
    let creds: serde_json::Value = http.get(format!("{ctl}/credentials")).send().await.unwrap().json().await.unwrap();
    assert_eq!(creds["sandbox"]["client_id"], sim.credentials(Environment::Sandbox).client_id);
    assert!(creds["production"]["client_secret"].is_string());
    let bad = post("/invoices", serde_json::json!({"customerId": "nope", "lines": [{"rate": "1"}]})).await.unwrap();
    assert_eq!(bad.status(), 404);
}

/// A stand-in for our tax API: `verify` and `calculate_tax` with a fixed 10 % rate.
async fn fake_tax_api() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new()
        .route(
            "/tax_api/verify",
            get(|h: HeaderMap| async move {
                if h.get("x-api-key").is_some_and(|v| v == "sph_good") {
                    (StatusCode::OK, Json(serde_json::json!({"organization_id": "org_1", "livemode": false})))
                } else {
                    (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"type":"api_error","code":"unauthorized_access","message":"Invalid API key."})))
                }
            }),
        )
        .route(
            "/tax_api/calculate_tax",
            post(move |h: HeaderMap, Json(body): Json<serde_json::Value>| {
                let seen = s2.clone();
                async move {
                    if h.get("x-api-key").is_none_or(|v| v != "sph_good") {
                        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({})));
                    }
                    let mut guard = seen.lock().unwrap();
                    guard.push(body.clone());
                    let n = guard.len();
                    let lines: Vec<serde_json::Value> = body["line_items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| {
                            let amount = l["amount"].as_i64().unwrap();
                            serde_json::json!({"id": l["id"], "tax_amounts": [{"amount": amount / 10, "taxable_amount": amount,
                                "tax_rate": {"percentage": 10.0, "inclusive": false, "display_name": "Sales Tax",
                                "jurisdiction": "Texas", "country": "US", "state": "TX", "tax_type": "sales_tax"}}]})
                        })
                        .collect();
                    (StatusCode::OK, Json(serde_json::json!({"message": "Tax calculated successfully",
                        "data": {"lines": lines, "sphere_tax_calculation_id": format!("calc-{n}")}})))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn part_two_tests_credentials_then_calculates_tax_on_drafts() {
    let sim = start(None).await;
    let (tax_url, seen) = fake_tax_api().await;
    let http = reqwest::Client::new();
    let ctl = sim.control_url();

    let bad: SphereTestResult = http
        .post(format!("{ctl}/integrations/sphere"))
        .json(&serde_json::json!({"base_url": tax_url, "api_key": "sph_wrong"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad, SphereTestResult { valid: false, saved: false, status: Some(401), error: bad.error.clone() });
    let good: SphereTestResult = http
        .post(format!("{ctl}/integrations/sphere"))
        .json(&serde_json::json!({"base_url": tax_url, "api_key": "sph_good"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(good.valid && good.saved);

    let target = Target { environment: Some(Environment::Sandbox), account_id: None };
    let cu = sim
        .state
        .create_customer(NewCustomer {
            target: target.clone(),
            legal_name: "Austin Co Inc".into(),
            address: Address {
                line1: "1 Congress Ave".into(),
                town: "Austin".into(),
                state: Some("TX".into()),
                postcode: "78701".into(),
                country: "US".into(),
                ..Address::default()
            },
            tax_status: Some(TaxStatus::TaxExempt),
            tax_identifier: Some("EXEMPT-123".into()),
            ..Default::default()
        })
        .unwrap();
    let p = sim
        .state
        .create_product(NewProduct { target: target.clone(), name: "Seats".into(), ..Default::default() })
        .unwrap();
    let (id, outcome) = sim
        .state
        .create_invoice(NewInvoice {
            target: target.clone(),
            customer_id: cu.customer.id.clone(),
            lines: vec![
                NewLine {
                    product_id: Some(p.id.clone()),
                    quantity: Some(Decimal::from(2)),
                    rate: Decimal::from_str("49.99").unwrap(),
                    ..Default::default()
                },
                NewLine { title: Some("Setup".into()), rate: Decimal::from(100), ..Default::default() },
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(outcome, TaxOutcome::Applied { sphere_tax_calculation_id: Some("calc-1".into()) });

    // The request, as modelled.
    let req = seen.lock().unwrap()[0].clone();
    assert_eq!(req["currency"], "usd");
    assert_eq!(req["customer_id"], cu.customer.id);
    assert_eq!(req["invoice_id"], id);
    assert_eq!(req["customer_address"]["city"], "Austin");
    assert_eq!(req["customer_address"]["postal_code"], "78701");
    assert_eq!(req["customer_address"]["state"], "TX");
    assert_eq!(req["tax_id"], "EXEMPT-123");
    assert_eq!(req["tax_exempt"], true);
    assert_eq!(req["line_items"][0]["amount"], 9998);
    assert_eq!(req["line_items"][0]["product_id"], p.id);
    assert!(req["line_items"][1].get("product_id").is_none());
    assert_eq!(sim.state.last_tax_request(&target).unwrap().unwrap(), req);

    // The tax written back.
    let v = sim.state.invoice(&id).unwrap();
    assert_eq!(v.lines[0].total_tax.to_string(), "9.99");
    assert_eq!(v.lines[0].gross_total.to_string(), "109.97");
    assert_eq!(v.lines[0].tax_rate, Decimal::from_str("0.1").unwrap());
    assert_eq!(v.invoice.total_tax.to_string(), "19.99");
    assert_eq!(v.invoice.gross_total.to_string(), "219.97");
    assert_eq!(v.invoice.sphere_calculation_id(), Some("calc-1"));
    assert!(v.invoice.calculated_at.is_some());

    // Recalculate through the control API replaces the linked calculation.
    let r: serde_json::Value =
        http.post(format!("{ctl}/invoices/{id}/recalculate")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["tax"]["sphere_tax_calculation_id"], "calc-2");
    let c = client(&sim, Environment::Sandbox);
    let got = c.get_invoice(&id).await.unwrap();
    assert_eq!(got.linked_services.len(), 1);
    assert_eq!(got.linked_services[0].external_service, seq::SPHERE_SERVICE);
    assert_eq!(got.linked_services[0].external_id, "calc-2");

    // Finalised invoices are no longer recalculated; creating one as SENT drafts + calculates first.
    sim.state.finalise_invoice(&id, true).unwrap();
    assert_eq!(sim.state.calculate_tax(&id).await.unwrap(), TaxOutcome::NotDraft);
    let (id2, o2) = sim
        .state
        .create_invoice(NewInvoice {
            target: target.clone(),
            customer_id: cu.customer.id.clone(),
            status: Some(wire::InvoiceStatus::Sent),
            lines: vec![NewLine { rate: Decimal::from(10), ..Default::default() }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(o2, TaxOutcome::Applied { .. }));
    assert_eq!(sim.state.invoice(&id2).unwrap().invoice.status, wire::InvoiceStatus::Sent);
    assert_eq!(sim.state.stats().tax_calls, 3);

    // A failing tax API leaves the draft and records the error.
    sim.state.with(|w| {
        if let Some(s) = w.accounts[0].sphere.as_mut() {
            s.api_key = "sph_rotated".into();
        }
    });
    let (id3, o3) = sim
        .state
        .create_invoice(NewInvoice {
            target,
            customer_id: cu.customer.id,
            lines: vec![NewLine { rate: Decimal::from(10), ..Default::default() }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(o3, TaxOutcome::Failed { .. }));
    let v3 = sim.state.invoice(&id3).unwrap();
    assert!(v3.last_tax_error.unwrap().contains("401"));
    assert!(v3.invoice.sphere_calculation_id().is_none());
    // The saved key is never echoed by the control API.
    let cfg = http.get(format!("{ctl}/integrations/sphere")).send().await.unwrap().text().await.unwrap();
    assert!(!cfg.contains("sph_rotated") && cfg.contains("\"configured\":true"));
}

#[tokio::test]
async fn before_cursor_and_resumed_pager() {
    let sim = start(None).await;
    sim.state.bulk_invoices(BulkInvoices { count: 30, ..Default::default() }).unwrap();
    let c = client(&sim, Environment::Sandbox);
    let q = InvoiceQuery::new().limit(10);
    let p1 = c.list_invoices_page(&q, None).await.unwrap();
    assert!(p1.before.is_none());
    let p2 = c.list_invoices_page(&q, p1.after.as_deref()).await.unwrap();
    // `before` of page 2 leads back to page 1.
    let back: Page<seq::Invoice> =
        c.list_page("/invoices", &BeforeQuery(p2.before.clone().unwrap()), None).await.unwrap();
    assert_eq!(
        back.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        p1.items.iter().map(|i| &i.id).collect::<Vec<_>>()
    );
    // A pager resumed from page 1's cursor yields pages 2 and 3 only.
    let rest = c.invoices(&q).starting_after(p1.after.unwrap()).collect().await.unwrap();
    assert_eq!(rest.len(), 20);
    assert_eq!(rest[0].id, p2.items[0].id);
}

struct BeforeQuery(String);
impl ListQuery for BeforeQuery {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        vec![("limit", "10".into()), ("before", self.0.clone())]
    }
}

#[tokio::test]
async fn customer_and_product_mutations_are_visible() {
    let sim = start(Some(SeedSpec {
        customers: 5,
        invoices: 0,
        credit_note_pct: 0,
        anchor: Some(anchor()),
        hard_cases: false,
        scale_credit_notes: 0,
    }))
    .await;
    let c = client(&sim, Environment::Sandbox);
    let customers = c.all_customers(&CustomerQuery::default()).await.unwrap();
    assert_eq!(customers.len(), 5);
    let id = customers[0].id.clone();
    let http = reqwest::Client::new();
    let r = http
        .patch(format!("{}/customers/{id}", sim.control_url()))
        .json(&serde_json::json!({"taxStatus": "REVERSE_CHARGED", "taxIdentifier": "DE999999999"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(c.get_customer(&id).await.unwrap().tax_status, seq::TaxStatus::ReverseCharged);
    let regs = c.customer_tax_registrations(&id).await.unwrap();
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].tax_identifier, "DE999999999");
    sim.state.update_customer(&id, CustomerPatch { archived: Some(true), ..Default::default() }).unwrap();
    assert_eq!(c.all_customers(&CustomerQuery::default()).await.unwrap().len(), 4);
    let with_archived =
        c.all_customers(&CustomerQuery { include_archived: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!(with_archived.len(), 5);
    assert!(with_archived.iter().any(|x| x.id == id && x.archived_at.is_some()));

    let p = &c.all_products(&ProductQuery::default()).await.unwrap()[0];
    let before = p.updated_at;
    sim.state.update_product(&p.id, ProductPatch { name: Some("Renamed".into()), ..Default::default() }).unwrap();
    let after = c.get_product(&p.id).await.unwrap();
    assert_eq!(after.name, "Renamed");
    assert!(after.updated_at > before);
}
