//! The simulator follows the published document: a seeded sandbox (with the hard cases and some scale
//! credit notes) is read over HTTP through all 12 endpoints — every page, every document by id, every
//! document's line items, every customer's tax registrations — and each response is walked against
//! `sim/spec/sequence-2024-07-30.json`. Every departure is printed with its JSON path; the test
//! demands none, except the one deliberate unknown currency, allowlisted by document id. It also
//! proves the walk is not vacuous (the checker finds a raw-patched document's departures, counts the
//! fields it checked, and sees every schema the simulator is meant to send).

use chrono::NaiveDate;
use sequence_sim::document::{self, Departure, DepartureKind, Report};
use sequence_sim::seed::hard_cases::UNKNOWN_CURRENCY;
use sequence_sim::{RawPatchRequest, Resource, SeedSpec, SimHandle, SimOptions, Simulator};
use serde_json::{Value, json};
use shared::domain::Environment;
use std::collections::{BTreeMap, BTreeSet, HashSet};

struct Reader {
    http: reqwest::Client,
    base: String,
    id: String,
    secret: String,
}

impl Reader {
    fn new(sim: &SimHandle) -> Self {
        let c = sim.credentials(Environment::Sandbox);
        Reader { http: reqwest::Client::new(), base: sim.sandbox_url(), id: c.client_id, secret: c.client_secret }
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.id, Some(&self.secret))
            .header("Sequence-Version", "2024-07-30")
            .query(query)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

/// Per endpoint: requests, documents, fields checked, departures.
#[derive(Default)]
struct Tally {
    requests: usize,
    documents: usize,
    skipped_patched: usize,
    report: Report,
    allowed: Vec<Departure>,
}

struct Run<'a> {
    reader: &'a Reader,
    patched: HashSet<String>,
    unknown_currency_invoice: String,
    tallies: BTreeMap<&'static str, Tally>,
}

impl Run<'_> {
    /// The one allowed departure. Sequence may add enum values at any time, so a client must keep
    /// unknown ones; the simulator sends exactly one on purpose — the hard-case invoice in XBT, to
    /// exercise the connector's quarantine — and it is allowed on that invoice's `currency` only.
    fn allowed(&self, d: &Departure) -> bool {
        d.doc_id.as_deref() == Some(self.unknown_currency_invoice.as_str())
            && d.path.ends_with(".currency")
            && d.kind == DepartureKind::OutsideEnum { value: UNKNOWN_CURRENCY.into() }
    }

    fn record(&mut self, endpoint: &'static str, mut body: Value, documents: usize) {
        let t = self.tallies.entry(endpoint).or_default();
        t.requests += 1;
        // Raw-patched documents are off-document on purpose: not checked.
        if let Some(items) = body.get_mut("items").and_then(Value::as_array_mut) {
            let before = items.len();
            items.retain(|i| i["id"].as_str().is_none_or(|id| !self.patched.contains(id)));
            t.skipped_patched += before - items.len();
            t.documents += items.len();
        } else if body["id"].as_str().is_some_and(|id| self.patched.contains(id)) {
            t.skipped_patched += 1;
            return;
        } else {
            t.documents += documents;
        }
        let mut r = document::spec().check_endpoint(endpoint, &body);
        let (allowed, departures): (Vec<_>, Vec<_>) = r.departures.drain(..).partition(|d| self.allowed(d));
        r.departures = departures;
        let t = self.tallies.entry(endpoint).or_default();
        t.allowed.extend(allowed);
        t.report.merge(r);
    }

    /// Every page of a list; returns its items.
    async fn list(&mut self, endpoint: &'static str, path: &str, extra: &[(&str, String)]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = vec![("limit", "100".into())];
            q.extend(extra.iter().cloned());
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let (status, body) = self.reader.get(path, &q).await;
            assert_eq!(status, 200, "{path}: {body}");
            out.extend(body["items"].as_array().cloned().unwrap_or_default());
            after = body["pagination"]["after"].as_str().map(str::to_owned);
            self.record(endpoint, body, 0);
            if after.is_none() {
                return out;
            }
        }
    }

    async fn one(&mut self, endpoint: &'static str, path: &str) -> Value {
        let (status, body) = self.reader.get(path, &[]).await;
        assert_eq!(status, 200, "{path}: {body}");
        self.record(endpoint, body.clone(), 1);
        body
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().filter_map(|i| i["id"].as_str().map(str::to_owned)).collect()
}

fn spec() -> SeedSpec {
    SeedSpec {
        customers: 25,
        invoices: 60,
        credit_note_pct: 30,
        anchor: NaiveDate::from_ymd_opt(2026, 6, 30),
        hard_cases: true,
        scale_credit_notes: 40,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_twelve_endpoints_follow_the_document() {
    let sim = Simulator::start(SimOptions { data: Some(spec()), rate_limit_per_minute: None, ..SimOptions::default() })
        .await
        .unwrap();
    let hard = sim.state.hard_cases(Environment::Sandbox).expect("the sandbox is seeded with the hard cases");
    let reader = Reader::new(&sim);

    // One customer the connector cannot decode (a list for the object map): served, but not checked.
    let patched_customer = sim.state.with(|w| {
        w.accounts[0]
            .customers
            .iter()
            .map(|c| c.customer.id.clone())
            .find(|id| *id != hard.customer_with_properties)
            .unwrap()
    });
    sim.state
        .raw_patch(RawPatchRequest {
            resource: Resource::Customers,
            id: patched_customer.clone(),
            patch: serde_json::from_value(json!({"set": {"customProperties": [1, 2]}})).unwrap(),
        })
        .unwrap();
    let (_, served) = reader.get(&format!("/customers/{patched_customer}"), &[]).await;
    assert_eq!(served["customProperties"], json!([1, 2]));
    let would = document::spec().check_endpoint("/customers/{id}", &served);
    assert_eq!(
        would.departures.iter().map(|d| (&d.path[..], &d.kind)).collect::<Vec<_>>(),
        vec![("$.customProperties", &DepartureKind::ListForMap)],
        "the checker sees what the patch broke"
    );

    let patched: HashSet<String> = sim.state.raw_patched().into_iter().map(|p| p.id).collect();
    let mut run = Run {
        reader: &reader,
        patched,
        unknown_currency_invoice: hard.unknown_currency_invoice.clone(),
        tallies: BTreeMap::new(),
    };

    run.list("/sequence-accounts", "/sequence-accounts", &[]).await;
    let customers = run.list("/customers", "/customers", &[("includeArchived", "true".into())]).await;
    for id in ids(&customers) {
        run.one("/customers/{id}", &format!("/customers/{id}")).await;
        run.list("/tax-registrations/for-customer/{id}", &format!("/tax-registrations/for-customer/{id}"), &[]).await;
    }
    let products = run.list("/products", "/products", &[]).await;
    for id in ids(&products) {
        run.one("/products/{id}", &format!("/products/{id}")).await;
    }
    let invoices = run.list("/invoices", "/invoices", &[]).await;
    for id in ids(&invoices) {
        run.one("/invoices/{id}", &format!("/invoices/{id}")).await;
        run.list("/invoices/{invoice}/line-items", &format!("/invoices/{id}/line-items"), &[]).await;
    }
    let notes = run.list("/credit-notes", "/credit-notes", &[]).await;
    for id in ids(&notes) {
        run.one("/credit-notes/{id}", &format!("/credit-notes/{id}")).await;
        run.list("/credit-notes/{creditnote}/line-items", &format!("/credit-notes/{id}/line-items"), &[]).await;
    }

    // The report.
    println!(
        "{:<42} {:>8} {:>9} {:>8} {:>14} {:>10}",
        "endpoint", "requests", "documents", "fields", "departures", "allowed"
    );
    let mut total = Report::default();
    let mut allowed = Vec::new();
    for (endpoint, t) in &run.tallies {
        println!(
            "{:<42} {:>8} {:>9} {:>8} {:>14} {:>10}",
            endpoint,
            t.requests,
            t.documents,
            t.report.fields_checked,
            t.report.departures.len(),
            t.allowed.len()
        );
        for d in &t.report.departures {
            println!("    {d}");
        }
        for d in &t.allowed {
            println!("    allowed: {d}");
        }
        total.merge(t.report.clone());
        allowed.extend(t.allowed.iter().cloned());
    }
    let skipped: usize = run.tallies.values().map(|t| t.skipped_patched).sum();
    println!("raw-patched documents skipped: {skipped}");

    // Every endpoint was exercised, with real content.
    assert_eq!(run.tallies.len(), 12, "{:?}", run.tallies.keys().collect::<Vec<_>>());
    for e in &document::spec().endpoints {
        let t = &run.tallies[e.path.as_str()];
        assert!(t.documents > 0 && t.report.fields_checked >= 3 * t.documents, "{}: a vacuous walk", e.path);
    }
    assert!(skipped >= 2, "the patched customer is skipped in the list and by id");
    // Zero departures, and the unknown currency only where it was put.
    assert!(total.departures.is_empty(), "{} departures (see above)", total.departures.len());
    assert_eq!(allowed.len(), 2, "the XBT invoice in the list and by id: {allowed:?}");

    // Every schema the simulator means to send was seen; the ones it never sends are named here.
    let never_sent: BTreeSet<&str> = [
        "AppliedCreditGrantResponse",
        "AssetResponse1",
        "AustralianBankAccountDestination",
        "CanadianBankAccountDestination",
        "CanadianInternationalDestination",
        "IntermediaryBank",
        "ProjectedCreditGrantResponse",
        "SwedishBankgiroDestination",
        "UsAchDestination",
        "UsWireDestination",
    ]
    .into();
    let unseen: BTreeSet<&str> =
        document::spec().schemas.keys().map(String::as_str).filter(|s| !total.schemas_seen.contains(*s)).collect();
    assert_eq!(unseen, never_sent);
    let required_unseen: Vec<String> = document::spec()
        .schemas
        .iter()
        .filter(|(name, _)| total.schemas_seen.contains(*name))
        .flat_map(|(name, s)| s.fields.iter().filter(|(_, f)| f.required).map(move |(f, _)| format!("{name}.{f}")))
        .filter(|f| !total.fields_seen.contains(f))
        .collect();
    assert!(required_unseen.is_empty(), "{required_unseen:?}");

    // The hard cases are really there.
    let statuses = |items: &[Value]| -> BTreeSet<String> {
        items.iter().filter_map(|i| i["status"].as_str().map(str::to_owned)).collect()
    };
    let all_five: BTreeSet<String> =
        ["IN_PROGRESS", "DRAFT", "FINAL", "SENT", "VOIDED"].iter().map(std::string::ToString::to_string).collect();
    assert_eq!(statuses(&invoices), all_five);
    assert_eq!(statuses(&notes), all_five);
    let holder = run.reader.get(&format!("/customers/{}", hard.customer_with_properties), &[]).await.1;
    assert!(holder["customProperties"].as_object().is_some_and(|m| m.len() >= 3), "{holder}");
    assert!(holder["contacts"].as_array().is_some_and(|c| c.len() >= 3), "{holder}");
    assert!(holder["organizations"][0]["members"].as_array().is_some_and(|m| !m.is_empty()));
    let xbt = run.reader.get(&format!("/invoices/{}", hard.unknown_currency_invoice), &[]).await.1;
    assert_eq!((xbt["currency"].as_str(), xbt["status"].as_str()), (Some(UNKNOWN_CURRENCY), Some("FINAL")));
    let orphan = run.reader.get(&format!("/credit-notes/{}", hard.orphan_credit_note), &[]).await.1;
    assert_eq!(orphan["invoiceId"].as_str(), Some(hard.deleted_invoice.as_str()));
    let (status, body) = run.reader.get(&format!("/invoices/{}", hard.deleted_invoice), &[]).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["type"], "NotFound");
    sim.shutdown().await;
}

/// The old simulator's mistakes, replayed on documents the simulator serves now: each must be a
/// departure at the right path (so the walk above cannot pass by missing them).
#[tokio::test]
async fn the_old_simulators_shapes_are_departures() {
    let spec = SeedSpec { customers: 3, invoices: 10, credit_note_pct: 100, ..spec() };
    let sim = Simulator::start(SimOptions { data: Some(spec), rate_limit_per_minute: None, ..SimOptions::default() })
        .await
        .unwrap();
    let hard = sim.state.hard_cases(Environment::Sandbox).unwrap();
    let reader = Reader::new(&sim);
    let check = |endpoint: &str, v: &Value| -> Vec<(String, DepartureKind)> {
        let mut d: Vec<_> =
            document::spec().check_endpoint(endpoint, v).departures.into_iter().map(|d| (d.path, d.kind)).collect();
        d.sort();
        d
    };

    let (_, mut customer) = reader.get(&format!("/customers/{}", hard.customer_with_properties), &[]).await;
    assert!(check("/customers/{id}", &customer).is_empty());
    customer["customProperties"] = json!([{"key": "region", "value": "EU"}]);
    customer["contacts"] = Value::Null;
    customer.as_object_mut().unwrap().remove("status");
    assert_eq!(
        check("/customers/{id}", &customer),
        vec![
            ("$.contacts".to_owned(), DepartureKind::NullNotNullable),
            ("$.customProperties".to_owned(), DepartureKind::ListForMap),
            ("$.status".to_owned(), DepartureKind::MissingRequired),
        ]
    );

    let sent = &hard.invoices_by_status["SENT"];
    let (_, mut invoice) = reader.get(&format!("/invoices/{sent}"), &[]).await;
    assert!(check("/invoices/{id}", &invoice).is_empty());
    let o = invoice.as_object_mut().unwrap();
    for f in ["renderSettings", "appliedCreditNotes", "paymentAllocations", "integrationPaymentStatuses"] {
        o.remove(f);
    }
    o["merchantDetails"].as_object_mut().unwrap().remove("customFields");
    o["isCustomerArchived"] = Value::Null;
    o["paymentStatus"] = json!("SOMETHING_NEW");
    assert_eq!(
        check("/invoices/{id}", &invoice),
        vec![
            ("$.appliedCreditNotes".to_owned(), DepartureKind::MissingRequired),
            ("$.integrationPaymentStatuses".to_owned(), DepartureKind::MissingRequired),
            ("$.isCustomerArchived".to_owned(), DepartureKind::NullNotNullable),
            ("$.merchantDetails.customFields".to_owned(), DepartureKind::MissingRequired),
            ("$.paymentAllocations".to_owned(), DepartureKind::MissingRequired),
            ("$.paymentStatus".to_owned(), DepartureKind::OutsideEnum { value: "SOMETHING_NEW".into() }),
            ("$.renderSettings".to_owned(), DepartureKind::MissingRequired),
        ]
    );

    let (_, mut page) = reader.get("/credit-notes", &[("limit", "2".into())]).await;
    assert!(check("/credit-notes", &page).is_empty());
    page["items"][1].as_object_mut().unwrap().remove("settings");
    page["items"][1]["applications"] = Value::Null;
    page["pagination"]["after"] = Value::Null;
    let id = page["items"][1]["id"].as_str().unwrap().to_owned();
    let r = document::spec().check_endpoint("/credit-notes", &page);
    assert_eq!(
        check("/credit-notes", &page),
        vec![
            ("$.items[1].applications".to_owned(), DepartureKind::NullNotNullable),
            ("$.items[1].settings".to_owned(), DepartureKind::MissingRequired),
            ("$.pagination.after".to_owned(), DepartureKind::NullNotNullable),
        ]
    );
    assert!(r.departures.iter().filter(|d| d.path.starts_with("$.items")).all(|d| d.doc_id.as_deref() == Some(&*id)));

    let (_, mut lines) = reader.get(&format!("/invoices/{sent}/line-items"), &[]).await;
    lines["items"][0]["index"] = json!("0");
    lines["items"][0]["externalIds"] = json!({});
    lines["items"][0].as_object_mut().unwrap().remove("taxRate");
    assert_eq!(
        check("/invoices/{invoice}/line-items", &lines),
        vec![
            (
                "$.items[0].externalIds".to_owned(),
                DepartureKind::WrongType {
                    expected: "array of object IntegrationExternalIdentifier".into(),
                    found: "object"
                }
            ),
            ("$.items[0].index".to_owned(), DepartureKind::WrongType { expected: "integer".into(), found: "string" }),
            ("$.items[0].taxRate".to_owned(), DepartureKind::MissingRequired),
        ]
    );
    sim.shutdown().await;
}
