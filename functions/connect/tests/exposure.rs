//! `GET /v1/exposure` and `GET /v1/reports/filing` over a ledger written the way the sync writes it (fenced
//! upserts that keep the running totals): statuses, the crossing invoice, filing totals that match the ledger
//! summary to the cent, the CSV, bad inputs, and another org seeing nothing.

mod common;

use bytes::Bytes;
use serde_json::{Value, json};
use shared::app::App;
use shared::clock::FakeClock;
use shared::config::Config;
use shared::connection::ConnectionRecord;
use shared::domain::Decimal;
use shared::ledger::{Ledger, TxnContent};
use shared::org::Principal;
use shared::store::{EmbeddedStore, Expect, ItemStore, lease};

struct Fixture {
    app: App<EmbeddedStore>,
    dir: std::path::PathBuf,
    a: Principal,
    b: Principal,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A transaction as the sync maps it (the fields the reports read; the rest plain).
fn txn(kind: &str, id: &str, region: &str, date: &str, net: &str, tax: &str, status: &str) -> TxnContent {
    let jurisdictions = if region == "US-GA" {
        json!([{"jurisdiction": "Georgia", "tax_type": "sales_tax", "taxable": net, "tax": "4"},
               {"jurisdiction": "Atlanta", "tax_type": "sales_tax", "taxable": net, "tax": "1.9"}])
    } else {
        json!([])
    };
    serde_json::from_value(json!({
        "kind": kind, "source_id": id, "number": format!("N-{id}"),
        "txn_type": if kind == "credit" { "refund" } else { "sale" }, "status": status, "source_status": "SENT",
        "currency": "USD", "event_date": date, "issue_date": date, "accounting_date": null,
        "customer": {"id": "c1", "name": "Buyer", "address": null, "address_source": "none", "tax_status": "TAXED",
                     "tax_status_inferred": false, "tax_id": null},
        "region": region, "refunded_invoice_id": null, "calculation_id": null,
        "net_total": net, "tax_total": tax, "gross_total": net, "taxable_total": net,
        "tax_calculated_total": if region == "US-GA" { json!("5.9") } else { Value::Null },
        "jurisdictions": jurisdictions, "lines": [], "source_version": "1", "source_updated_at": null,
        "header_hash": id, "content_hash": format!("{id}-{net}-{status}"),
    }))
    .unwrap()
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("connect-exposure-{}", shared::domain::new_uuid()));
    let app = App::new(Config::defaults(), EmbeddedStore::open(&dir).unwrap(), FakeClock::at(1_795_687_200_000));
    let (a, b) = common::alice_and_bob();
    let rec = ConnectionRecord { next_sync_at_ms: None, ..common::acme(&a.org, 0) };
    let conn = rec.connection_id.clone();
    app.store.write(vec![rec.put(Expect::Absent).unwrap()]).await.unwrap();
    let key = shared::layout::lease_key(&a.org, &conn);
    let guard = lease::acquire(&app.store, &key, "test", 0, i64::MAX / 2).await.unwrap().unwrap();
    let ledger = Ledger::new(&app.store, a.org.clone(), conn);
    assert!(ledger.ensure_counters(&guard).await.unwrap(), "an empty ledger's counters are built once");
    for t in [
        txn("invoice", "inv-1", "US-WA", "2026-02-01", "60000", "6000", "active"),
        txn("invoice", "inv-2", "US-WA", "2026-03-02", "50000.10", "5000.01", "active"),
        txn("invoice", "inv-3", "US-WA", "2026-03-02", "100", "10", "active"),
        txn("credit", "cn-1", "US-WA", "2026-04-01", "5000", "500", "active"),
        txn("invoice", "inv-void", "US-WA", "2026-02-15", "500000", "0", "cancelled"),
        txn("invoice", "inv-ga", "US-GA", "2026-07-15", "100", "5.9", "active"),
    ] {
        ledger.upsert_transaction(&guard, t, 1).await.unwrap();
    }
    // A changed invoice moves its old amount out of the counters and its new one in.
    ledger
        .upsert_transaction(&guard, txn("invoice", "inv-3", "US-WA", "2026-03-02", "200", "20", "active"), 2)
        .await
        .unwrap();
    Fixture { app, dir, a, b }
}

async fn call(f: &Fixture, who: &Principal, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut req = http::Request::builder().method("GET").uri(path);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let resp = connect::handle(&f.app, who.clone(), req.body(Bytes::new()).unwrap()).await;
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (resp.status().as_u16(), ct, String::from_utf8_lossy(resp.body()).into_owned())
}

async fn get(f: &Fixture, who: &Principal, path: &str) -> Value {
    let (status, _, body) = call(f, who, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn row<'a>(v: &'a Value, j: &str) -> &'a Value {
    v["items"].as_array().unwrap().iter().find(|e| e["jurisdiction"] == j).unwrap()
}

fn dec(v: &Value) -> Decimal {
    v.as_str().map_or_else(|| v.to_string().parse().unwrap(), |s| s.parse().unwrap())
}

#[tokio::test]
async fn exposure_names_the_crossing_invoice_and_the_registration_date() {
    let f = fixture().await;
    let v = get(&f, &f.a, "/v1/exposure?as_of=2026-11-26&crossing_documents=true").await;
    assert_eq!(v["complete"], true);
    let wa = row(&v, "US-WA");
    assert_eq!(wa["status"], "exposed");
    assert_eq!(dec(&wa["sales"]), "105200.10".parse::<Decimal>().unwrap(), "invoices − credit note; void left out");
    assert_eq!(wa["transactions"], 3, "invoices, not credit notes or voids");
    assert_eq!(wa["crossed_on"], "2026-03-02");
    assert_eq!(wa["crossing_document"]["id"], "invoice:inv-2", "$60,000 + $50,000.10 crosses, not the $200");
    assert_eq!(wa["registration_required_from"], "2026-04-01", "Washington: first of the month ≥ 30 days after");
    assert_eq!(row(&v, "US-GA")["status"], "below");
    let plain = get(&f, &f.a, "/v1/exposure?as_of=2026-11-26").await;
    assert!(row(&plain, "US-WA")["crossing_document"].is_null(), "named only when asked (it reads that day)");
    assert_eq!(row(&plain, "US-WA")["crossed_on"], "2026-03-02");
    assert_eq!(v["items"].as_array().unwrap().len(), 61, "every jurisdiction with a threshold, one EU row");
    // Another org sees none of it.
    let other = get(&f, &f.b, "/v1/exposure?as_of=2026-11-26").await;
    assert_eq!(dec(&row(&other, "US-WA")["sales"]), Decimal::ZERO);
    // Before the crossing, and at a stricter "approaching" share.
    let early = get(&f, &f.a, "/v1/exposure?as_of=2026-02-20&approaching_percent=50").await;
    assert_eq!(
        (row(&early, "US-WA")["status"].as_str(), row(&early, "US-WA")["percent"].as_str()),
        (Some("approaching"), Some("60.0"))
    );
    for bad in [
        "/v1/exposure?as_of=2026-13-01",
        "/v1/exposure?approaching_percent=0",
        "/v1/exposure?approaching_percent=x",
        "/v1/exposure?crossing_documents=yes",
    ] {
        assert_eq!(call(&f, &f.a, bad, None).await.0, 400, "{bad}");
    }
}

#[tokio::test]
async fn filing_totals_match_the_ledger_to_the_cent_in_json_and_csv() {
    let f = fixture().await;
    let v = get(&f, &f.a, "/v1/reports/filing?jurisdiction=us-wa&period=2026-Q1").await;
    let t = &v["currencies"][0];
    assert_eq!((t["invoices"].as_i64(), t["credit_notes"].as_i64()), (Some(3), Some(0)));
    let summary = get(&f, &f.a, "/v1/ledger/summary?from=2026-01-01&to=2026-03-31").await;
    let s = summary["items"].as_array().unwrap().iter().find(|r| r["region"] == "US-WA").unwrap();
    assert_eq!(dec(&t["gross_sales"]), dec(&s["gross_sales"]), "filing total = ledger summary");
    assert_eq!(dec(&t["tax_collected"]), dec(&s["tax_collected"]));
    assert_eq!(v["documents"].as_array().unwrap().len(), 4, "the quarter's documents, the voided one included");
    // The year nets the April credit note; Georgia's breakdown by our calculation's jurisdictions.
    let year = get(&f, &f.a, "/v1/reports/filing?jurisdiction=US-WA&period=2026").await;
    assert_eq!(dec(&year["currencies"][0]["gross_sales"]), "105200.1".parse::<Decimal>().unwrap());
    let ga = get(&f, &f.a, "/v1/reports/filing?jurisdiction=US-GA&period=2026-07").await;
    let names: Vec<&str> = ga["currencies"][0]["jurisdictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["jurisdiction"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Atlanta", "Georgia"]);

    let (status, ct, csv) =
        call(&f, &f.a, "/v1/reports/filing?jurisdiction=US-GA&period=2026-Q3", Some("text/csv")).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], shared::exposure::filing::CSV_HEADER.join(","));
    assert_eq!(lines[1], "2026-Q3,2026-07-01,2026-09-30,USD,US-GA,total,1,0,100.00,0.00,100.00,5.90,5.90");
    assert_eq!(lines[2], "2026-Q3,2026-07-01,2026-09-30,USD,Atlanta,sales_tax,,,,,100.00,,1.90");
    assert_eq!(lines.len(), 5, "header, total, two jurisdictions, and the final CRLF");
    let (_, ct, _) = call(&f, &f.a, "/v1/reports/filing?jurisdiction=US-GA&period=2026-Q3&format=csv", None).await;
    assert!(ct.starts_with("text/csv"));

    for bad in [
        "/v1/reports/filing?jurisdiction=US-WA&period=2026-Q5",
        "/v1/reports/filing?jurisdiction=US-WA",
        "/v1/reports/filing?jurisdiction=US%2FWA&period=2026",
        "/v1/reports/filing?period=2026",
    ] {
        let (status, _, body) = call(&f, &f.a, bad, None).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("invalid_request"), "{body}");
    }
    let other = get(&f, &f.b, "/v1/reports/filing?jurisdiction=US-WA&period=2026").await;
    assert_eq!(other["currencies"], json!([]));
}
