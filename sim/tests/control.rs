//! The control API's newer tools, over HTTP: seeding at scale (20,000 credit notes with lines, timed,
//! and listed completely), the hard cases' ids, raw patches that make one document undecodable for the
//! connector's client (and undoing them), paying and deleting invoices.

use chrono::NaiveDate;
use sequence_sim::{SeedSpec, SimHandle, SimOptions, Simulator};
use serde_json::{Value, json};
use shared::domain::Environment;
use shared::sequence::{ClientOptions, CustomerQuery, SequenceClient, SequenceError};
use std::collections::HashSet;
use std::time::Instant;

fn anchor() -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 6, 30)
}

async fn start(data: Option<SeedSpec>) -> SimHandle {
    Simulator::start(SimOptions { data, rate_limit_per_minute: None, ..SimOptions::default() }).await.unwrap()
}

async fn api(sim: &SimHandle, path: &str) -> (u16, Value) {
    let c = sim.credentials(Environment::Sandbox);
    let r = reqwest::Client::new()
        .get(format!("{}{path}", sim.sandbox_url()))
        .basic_auth(c.client_id, Some(c.client_secret))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn control(sim: &SimHandle, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, format!("{}{path}", sim.control_url()));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_credit_notes_seed_in_seconds_and_list_completely() {
    let spec =
        SeedSpec { customers: 60, invoices: 300, anchor: anchor(), scale_credit_notes: 20_000, ..SeedSpec::default() };
    let started = Instant::now();
    let sim = start(Some(spec)).await;
    let seeded = started.elapsed();
    let (notes, lines) = sim.state.with(|w| {
        (w.accounts[0].credit_notes.len(), w.accounts[0].credit_notes.iter().map(|c| c.lines.len()).sum::<usize>())
    });
    println!("seeded {notes} credit notes ({lines} lines) plus the base seed of both accounts in {seeded:?}");
    assert!(notes >= 20_000);
    assert!(lines >= 20_000);
    // Generous for a debug build on a busy machine; a release build takes a fraction of a second.
    assert!(seeded.as_secs() < 30, "seeding took {seeded:?}");

    // Every one of them is listed exactly once, page by page.
    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &after {
            Some(a) => format!("/credit-notes?limit=100&sortOrder=ASC&after={a}"),
            None => "/credit-notes?limit=100&sortOrder=ASC".to_owned(),
        };
        let (status, body) = api(&sim, &q).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pagination"]["totalResultSize"].as_u64(), Some(notes as u64));
        for i in body["items"].as_array().unwrap() {
            assert!(seen.insert(i["id"].as_str().unwrap().to_owned()), "listed twice");
        }
        pages += 1;
        match body["pagination"]["after"].as_str() {
            Some(a) => after = Some(a.to_owned()),
            None => break,
        }
    }
    println!("listed {} credit notes in {pages} pages in {:?}", seen.len(), started.elapsed());
    assert_eq!(seen.len(), notes);
    let some = seen.iter().next().unwrap();
    let (status, body) = api(&sim, &format!("/credit-notes/{some}/line-items")).await;
    assert_eq!(status, 200);
    assert!(!body["items"].as_array().unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn seed_route_takes_scale_and_hard_cases_are_addressable() {
    let sim = start(None).await;
    let (status, _) = control(&sim, reqwest::Method::GET, "/hard-cases", None).await;
    assert_eq!(status, 404, "nothing seeded yet");
    let (status, body) = control(
        &sim,
        reqwest::Method::POST,
        "/seed",
        Some(json!({"customers": 10, "invoices": 20, "anchor": "2026-06-30", "scaleCreditNotes": 300})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, stats) = control(&sim, reqwest::Method::GET, "/stats", None).await;
    let sandbox = &stats["accounts"][0];
    assert!(sandbox["creditNotes"].as_u64().unwrap() >= 300, "{stats}");
    assert_eq!(sandbox["hardCases"], true);
    let (status, hard) = control(&sim, reqwest::Method::GET, "/hard-cases", None).await;
    assert_eq!(status, 200);
    for s in ["IN_PROGRESS", "DRAFT", "FINAL", "SENT", "VOIDED"] {
        let id = hard["invoicesByStatus"][s].as_str().unwrap();
        assert_eq!(api(&sim, &format!("/invoices/{id}")).await.1["status"], s);
        let id = hard["creditNotesByStatus"][s].as_str().unwrap();
        assert_eq!(api(&sim, &format!("/credit-notes/{id}")).await.1["status"], s);
    }
    let (status, _) = api(&sim, &format!("/invoices/{}", hard["deletedInvoice"].as_str().unwrap())).await;
    assert_eq!(status, 404);
    let (_, orphan) = api(&sim, &format!("/credit-notes/{}", hard["orphanCreditNote"].as_str().unwrap())).await;
    assert_eq!(orphan["invoiceId"], hard["deletedInvoice"]);
    let (_, props) = api(&sim, &format!("/customers/{}", hard["customerWithProperties"].as_str().unwrap())).await;
    assert_eq!(props["customProperties"]["region"], "EU");
    assert_eq!(
        props["contacts"].as_array().unwrap().iter().map(|c| c["billingPreference"].clone()).collect::<Vec<_>>(),
        vec![json!("PRIMARY"), json!("STANDARD"), json!("NONE"), json!("STANDARD")]
    );
    // Turned off: no hard cases.
    control(&sim, reqwest::Method::POST, "/seed", Some(json!({"customers": 3, "invoices": 0, "hardCases": false})))
        .await;
    assert_eq!(control(&sim, reqwest::Method::GET, "/hard-cases", None).await.0, 404);
}

#[tokio::test]
async fn raw_patch_serves_a_document_the_client_cannot_decode_until_cleared() {
    let spec = SeedSpec { customers: 5, invoices: 10, anchor: anchor(), hard_cases: false, ..SeedSpec::default() };
    let sim = start(Some(spec)).await;
    let client = SequenceClient::with_options(
        &sim.credentials(Environment::Sandbox).to_client_credentials(),
        ClientOptions::with_base_url(sim.sandbox_url()),
    )
    .unwrap();
    let customers = client.all_customers(&CustomerQuery::default()).await.unwrap();
    assert_eq!(customers.len(), 5);
    let id = customers[2].id.clone();

    let (status, body) = control(
        &sim,
        reqwest::Method::POST,
        "/raw-patch",
        Some(json!({"resource": "customers", "id": id, "set": {"customProperties": [1, 2]}, "unset": ["address"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resource"], "customers");
    // Served patched, in the list and by id; the rest of the document is unchanged.
    let (_, one) = api(&sim, &format!("/customers/{id}")).await;
    assert_eq!(one["customProperties"], json!([1, 2]));
    assert!(one.get("address").is_none());
    assert_eq!(one["id"], id.as_str());
    let (_, page) = api(&sim, "/customers?limit=100").await;
    let item = page["items"].as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).unwrap().clone();
    assert_eq!(item["customProperties"], json!([1, 2]));
    // The connector's client cannot decode it.
    let err = client.get_customer(&id).await.unwrap_err();
    assert!(matches!(err, SequenceError::Decode { .. }), "{err:?}");
    // Listed, then cleared.
    let (_, listed) = control(&sim, reqwest::Method::GET, "/raw-patch", None).await;
    assert_eq!(listed["patched"].as_array().unwrap().len(), 1);
    assert_eq!(listed["patched"][0]["id"], id.as_str());
    assert_eq!(sim.state.raw_patched().len(), 1);
    control(&sim, reqwest::Method::DELETE, "/raw-patch", None).await;
    assert!(sim.state.raw_patched().is_empty());
    assert_eq!(client.get_customer(&id).await.unwrap().id, id);

    // Line items too; unknown documents and resources are refused.
    let line = sim.state.with(|w| w.accounts[0].invoices.first().unwrap().lines[0].clone());
    let (status, _) = control(
        &sim,
        reqwest::Method::POST,
        "/raw-patch",
        Some(json!({"resource": "invoice-line-items", "id": line.id, "set": {"quantity": 12}})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, lines) = api(&sim, &format!("/invoices/{}/line-items", line.invoice_id)).await;
    assert_eq!(lines["items"][0]["quantity"], 12);
    let (status, body) =
        control(&sim, reqwest::Method::POST, "/raw-patch", Some(json!({"resource": "invoices", "id": "nope"}))).await;
    assert_eq!((status, body["error"]["type"].as_str()), (404, Some("NotFound")));
    let (status, _) =
        control(&sim, reqwest::Method::POST, "/raw-patch", Some(json!({"resource": "widgets", "id": id}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn invoices_can_be_paid_and_deleted() {
    let spec = SeedSpec { customers: 5, invoices: 30, anchor: anchor(), hard_cases: false, ..SeedSpec::default() };
    let sim = start(Some(spec)).await;
    let id = sim.state.with(|w| {
        w.accounts[0]
            .invoices
            .iter()
            .find(|r| r.invoice.status.as_str() == "FINAL" && r.invoice.payment_status.as_str() == "UNPAID")
            .map(|r| r.invoice.id.clone())
            .unwrap()
    });
    let (_, before) = api(&sim, &format!("/invoices/{id}")).await;
    assert_eq!(before["balance"], before["grossTotal"]);
    let (status, body) =
        control(&sim, reqwest::Method::POST, &format!("/invoices/{id}/pay"), Some(json!({"origin": "STRIPE"}))).await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = api(&sim, &format!("/invoices/{id}")).await;
    assert_eq!(after["paymentStatus"], "PAID");
    assert_eq!(after["paymentAllocations"][0]["amount"], before["grossTotal"]);
    assert_eq!(after["paymentAllocations"][0]["origin"], "STRIPE");
    assert_eq!(after["integrationPaymentStatuses"]["stripe"], "PAID");
    assert_eq!(after["balance"].as_str().map(|b| b.trim_end_matches('0').trim_end_matches('.')), Some("0"));
    assert_eq!(control(&sim, reqwest::Method::POST, &format!("/invoices/{id}/pay"), None).await.0, 409);

    assert_eq!(control(&sim, reqwest::Method::DELETE, &format!("/invoices/{id}"), None).await.0, 200);
    assert_eq!(api(&sim, &format!("/invoices/{id}")).await.0, 404);
    let (_, list) = api(&sim, "/invoices?limit=100").await;
    assert!(list["items"].as_array().unwrap().iter().all(|i| i["id"] != id.as_str()));
    assert_eq!(control(&sim, reqwest::Method::DELETE, &format!("/invoices/{id}"), None).await.0, 404);
}
