//! `sphere-local demo`: both parts of the public setup guide, end to end, on one machine. It starts
//! the Sequence simulator (a seeded sandbox account) and the local server over a fresh data dir, then
//! walks the guide as a person would and prints each step: Part 1 in the Sphere console (connect,
//! API key, registrations, tax codes, sync), Part 2 in "Sequence" (test credentials, draft invoices
//! taxed by our endpoint, finalise), and finally checks that the ledger's collected tax equals the
//! tax we calculated. Everything goes through the public HTTP APIs.

use crate::serve;
use sequence_sim::wire::{Address, TaxStatus};
use sequence_sim::{self as sim, SeedSpec, SimHandle, SimOptions, Simulator, Target};
use serde_json::{Value, json};
use shared::domain::{Decimal, Environment};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Options {
    pub data_dir: Option<PathBuf>,
    pub keep: bool,
    /// Size of the seeded Sequence account.
    pub customers: u32,
    pub invoices: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { data_dir: None, keep: false, customers: 120, invoices: 360 }
    }
}

/// What the demo proved, for tests.
#[derive(Debug)]
pub struct Report {
    pub data_dir: PathBuf,
    pub imported_transactions: usize,
    pub demo_invoices: usize,
    pub tax_calculated: Decimal,
    pub tax_collected: Decimal,
    /// US jurisdictions by exposure status (`exposed`, `approaching`, …).
    pub exposure_statuses: std::collections::BTreeMap<String, Vec<String>>,
    /// Currency blocks of the printed filing report.
    pub filing_csv_rows: usize,
    /// How long a void made in Sequence took to reach the ledger by webhook.
    pub webhook_latency: Duration,
}

struct Console {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Console {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }
    async fn get(&self, path: &str) -> Result<Value, String> {
        match self.call(reqwest::Method::GET, path, None).await? {
            (200, v) => Ok(v),
            (s, v) => Err(format!("GET {path} → {s}: {v}")),
        }
    }
    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Result<(u16, Value), String> {
        self.call(method, path, Some(body)).await
    }
}

fn step(out: &mut dyn Write, text: &str) {
    let _ = writeln!(out, "\n▸ {text}");
}

fn say(out: &mut dyn Write, text: &str) {
    let _ = writeln!(out, "  {text}");
}

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("").to_owned()
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => s.parse().unwrap_or_default(),
        Value::Number(n) => n.to_string().parse().unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

/// Waits for the local sync worker, printing a progress line.
async fn wait_for_sync(server: &serve::Server, out: &mut dyn Write) -> Result<(), String> {
    use std::io::IsTerminal;
    let started = Instant::now();
    let animate = std::io::stdout().is_terminal();
    let spinner = ['|', '/', '-', '\\'];
    let mut i = 0;
    if !animate {
        let _ = write!(out, "  syncing …");
    }
    while server.sync_pending.count() > 0 {
        if started.elapsed() > Duration::from_secs(120) {
            return Err("the sync did not finish within 120 s".into());
        }
        if animate {
            let _ = write!(out, "\r  syncing {} {:>4.1} s", spinner[i % 4], started.elapsed().as_secs_f32());
            let _ = out.flush();
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = writeln!(out, "\r  sync finished in {:.1} s          ", started.elapsed().as_secs_f32());
    Ok(())
}

/// A customer the demo drafts an invoice for.
struct Buyer {
    label: &'static str,
    name: &'static str,
    address: Address,
    currency: &'static str,
    tax_status: TaxStatus,
    tax_id: Option<&'static str>,
}

fn addr(line1: &str, town: &str, state: Option<&str>, postcode: &str, country: &str) -> Address {
    Address {
        line1: line1.into(),
        line2: None,
        town: town.into(),
        state: state.map(Into::into),
        postcode: postcode.into(),
        country: country.into(),
    }
}

fn buyers() -> Vec<Buyer> {
    vec![
        Buyer {
            label: "US state with local tax",
            name: "Peachtree Analytics LLC",
            address: addr("55 Trinity Ave SW", "Atlanta", Some("GA"), "30303", "US"),
            currency: "USD",
            tax_status: TaxStatus::Taxed,
            tax_id: None,
        },
        Buyer {
            label: "Canadian province (HST)",
            name: "Maple Robotics Inc.",
            address: addr("100 King St W", "Toronto", Some("ON"), "M5X 1A9", "CA"),
            currency: "CAD",
            tax_status: TaxStatus::Taxed,
            tax_id: None,
        },
        Buyer {
            label: "EU business with a VAT id",
            name: "Rheinwerk GmbH",
            address: addr("Unter den Linden 1", "Berlin", None, "10117", "DE"),
            currency: "EUR",
            tax_status: TaxStatus::Taxed,
            tax_id: Some("DE123456789"),
        },
        Buyer {
            label: "EU consumer",
            name: "Camille Martin",
            address: addr("8 Rue de Rivoli", "Paris", None, "75004", "FR"),
            currency: "EUR",
            tax_status: TaxStatus::Taxed,
            tax_id: None,
        },
        Buyer {
            label: "exempt customer",
            name: "Lakeside Public School District",
            address: addr("100 Main St", "Minneapolis", Some("MN"), "55401", "US"),
            currency: "USD",
            tax_status: TaxStatus::TaxExempt,
            tax_id: None,
        },
    ]
}

pub async fn run(opts: Options, out: &mut dyn Write) -> Result<Report, String> {
    let started = Instant::now();
    let data_dir = match opts.data_dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("sphere-local-demo-{}", shared::domain::new_uuid())),
    };
    let _ = writeln!(out, "Sphere ⇄ Sequence connector — the setup guide, end to end, on this machine");
    say(out, &format!("data dir: {}", data_dir.display()));

    // The Sequence side: a simulated sandbox account with a year of data (no rate limit, for speed).
    let sim = Simulator::start(SimOptions {
        data: Some(SeedSpec { customers: opts.customers, invoices: opts.invoices, ..SeedSpec::default() }),
        rate_limit_per_minute: None,
        ..SimOptions::default()
    })
    .await
    .map_err(|e| format!("could not start the Sequence simulator: {e}"))?;
    let (base, server, server_task) = serve::start_beside(&data_dir, &sim).await?;
    say(out, &format!("Sphere (local server): {base}    Sequence simulator: http://{}", sim.addr));

    let http = reqwest::Client::new();
    let console = Console { http: http.clone(), base: base.clone(), token: server.tokens.test.token.clone() };
    let live_console = Console { http: http.clone(), base: base.clone(), token: server.tokens.live.token.clone() };
    let sandbox = sim.credentials(Environment::Sandbox);

    // ── Part 1 ──────────────────────────────────────────────────────────────────────────────
    let _ = writeln!(out, "\nPART 1 — in the Sphere console: connect Sequence and generate the API key");
    step(out, "Connect on the Sequence tile with a mistyped Client Secret");
    let (s, v) = console
        .send(
            reqwest::Method::POST,
            "/v1/sequence/connections",
            json!({"client_id": sandbox.client_id, "client_secret": "not-the-secret"}),
        )
        .await?;
    say(out, &format!("refused ({s}): {}", message(&v)));
    step(out, "Connect the Sequence sandbox account to the LIVE organization");
    let (s, v) = live_console
        .send(
            reqwest::Method::POST,
            "/v1/sequence/connections",
            json!({"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "environment": "sandbox"}),
        )
        .await?;
    say(out, &format!("refused ({s}): {}", message(&v)));
    step(out, "Connect with the sandbox Client ID and Secret (test organization)");
    let (s, conn) = console
        .send(
            reqwest::Method::POST,
            "/v1/sequence/connections",
            json!({"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}),
        )
        .await?;
    if s != 201 {
        return Err(format!("connect failed ({s}): {conn}"));
    }
    let conn_id = conn["id"].as_str().unwrap_or_default().to_owned();
    say(
        out,
        &format!(
            "connected: {} (Sequence account {}, {})",
            conn["company_name"].as_str().unwrap_or("?"),
            conn["sequence_account_id"].as_str().unwrap_or("?"),
            conn["environment"].as_str().unwrap_or("?")
        ),
    );
    step(out, "Generate the Sphere API key");
    let (_, key) =
        console.send(reqwest::Method::POST, &format!("/v1/sequence/connections/{conn_id}/api-keys"), json!({})).await?;
    let api_key = key["api_key"].as_str().ok_or("no key in the response")?.to_owned();
    say(out, &api_key);
    say(out, key["notice"].as_str().unwrap_or(""));

    step(out, "Tax settings: origin address and registrations");
    console
        .send(reqwest::Method::PUT, "/v1/settings", json!({"origin_address": {"line1": "500 Howard Street", "city": "San Francisco", "state": "CA", "postal_code": "94105", "country": "US"}}))
        .await?;
    for (path, label) in [
        ("US/GA", "Georgia"),
        ("US/MN", "Minnesota"),
        ("US/WI", "Wisconsin"),
        ("CA", "Canada GST/HST"),
        ("EU", "EU One-Stop Shop"),
    ] {
        let (s, v) = console
            .send(
                reqwest::Method::PUT,
                &format!("/v1/registrations/{path}"),
                json!({"effective_from": "2024-01-01", "collect": true}),
            )
            .await?;
        if s != 200 {
            return Err(format!("registration {path}: {v}"));
        }
        say(out, &format!("registered: {label}"));
    }

    step(out, "Sync now (products, customers, invoices, credit notes)");
    console.send(reqwest::Method::POST, &format!("/v1/sequence/connections/{conn_id}/sync"), json!({})).await?;
    wait_for_sync(&server, out).await?;
    let conn = console.get(&format!("/v1/sequence/connections/{conn_id}")).await?;
    let summary = &conn["last_sync"]["summary"];
    say(
        out,
        &format!(
            "{} new records; {} quarantined (kept aside with a reason, e.g. the sandbox's invoice in XBT, a \
             currency outside ISO 4217)",
            summary["created"].as_u64().unwrap_or(0),
            summary["quarantined"].as_u64().unwrap_or(0)
        ),
    );

    step(out, "Assign a tax code to each synced product");
    let products = console.get("/v1/products").await?;
    for p in products["items"].as_array().cloned().unwrap_or_default() {
        let name = p["name"].as_str().unwrap_or("").to_owned();
        let lower = name.to_lowercase();
        let code = if lower.contains("support") {
            "support_maintenance"
        } else if lower.contains("training") || lower.contains("onboarding") {
            "training"
        } else if lower.contains("consult") || lower.contains("service") {
            "professional_services"
        } else if lower.contains("hardware") || lower.contains("device") || lower.contains("kit") {
            "physical_goods"
        } else {
            "saas"
        };
        let pid = p["product_id"].as_str().unwrap_or_default();
        console.send(reqwest::Method::PUT, &format!("/v1/products/{pid}/tax-code"), json!({"tax_code": code})).await?;
        say(out, &format!("{name:<34} → {code}"));
    }

    let (imported, table) = ledger_overview(&console).await?;
    step(out, "The ledger after the first sync");
    for line in table {
        say(out, &line);
    }

    // ── Part 2 ──────────────────────────────────────────────────────────────────────────────
    let _ = writeln!(out, "\nPART 2 — in Sequence: Browse integrations → Sphere");
    let target = Target { environment: Some(Environment::Sandbox), account_id: None };
    step(out, "Test credentials with a wrong key");
    let t = sim.state.configure_sphere(&target, &base, "sphk_test_wrong").await.map_err(|e| e.to_string())?;
    say(out, &format!("{} (tax API answered {})", if t.valid { "valid" } else { "invalid" }, t.status.unwrap_or(0)));
    step(out, "Test credentials with the Sphere API key, then Save");
    let t = sim.state.configure_sphere(&target, &base, &api_key).await.map_err(|e| e.to_string())?;
    say(out, &format!("{}; saved: {}", if t.valid { "valid" } else { "invalid" }, t.saved));
    if !t.valid {
        return Err("the key was refused by our own tax API".into());
    }

    step(out, "Draft invoices — Sequence asks our tax endpoint for each");
    // Each draft has one physical good and one SaaS line: taxability differs by place.
    let products = console.get("/v1/products").await?;
    let product_with = |code: &str| {
        products["items"].as_array().and_then(|a| {
            a.iter().find(|p| p["tax_code"] == code).and_then(|p| p["product_id"].as_str().map(str::to_owned))
        })
    };
    let product_ids: Vec<String> = ["physical_goods", "saas"].iter().filter_map(|c| product_with(c)).collect();
    let org = server.tokens.test.org_id.clone();
    let mut drafted = Vec::new();
    for (i, b) in buyers().into_iter().enumerate() {
        let customer = sim
            .state
            .create_customer(sim::NewCustomer {
                target: target.clone(),
                legal_name: b.name.into(),
                address: b.address.clone(),
                tax_status: Some(b.tax_status),
                tax_identifier: b.tax_id.map(Into::into),
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
        let lines = (0..2)
            .map(|k| sim::NewLine {
                product_id: product_ids.get(k % product_ids.len().max(1)).cloned(),
                title: None,
                quantity: Some(Decimal::from(1 + k as i64)),
                rate: Decimal::new(49_900 + 10_000 * i as i64, 2),
                ..Default::default()
            })
            .collect();
        let (inv_id, outcome) = sim
            .state
            .create_invoice(sim::NewInvoice {
                target: target.clone(),
                customer_id: customer.customer.id.clone(),
                currency: Some(b.currency.to_owned()),
                status: Some(sim::wire::InvoiceStatus::Draft),
                lines,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let view = sim.state.invoice(&inv_id).map_err(|e| e.to_string())?;
        let calc_id = match outcome {
            sim::TaxOutcome::Applied { sphere_tax_calculation_id } => sphere_tax_calculation_id,
            other => return Err(format!("invoice for {}: tax not applied: {other:?}", b.name)),
        };
        say(
            out,
            &format!(
                "{} — {} ({}): net {} {}, tax {} {}",
                b.label,
                b.name,
                b.address.country,
                view.invoice.net_total,
                b.currency,
                view.invoice.total_tax,
                b.currency
            ),
        );
        if let Some(calc) = match &calc_id {
            Some(id) => calculation(&server, &org, id).await?,
            None => None,
        } {
            let mut shown = std::collections::BTreeMap::<String, (Decimal, i64)>::new();
            for l in &calc.lines {
                for a in &l.tax_amounts {
                    let e = shown.entry(format!("{} ({})", a.jurisdiction, a.tax_type)).or_insert((a.percentage, 0));
                    e.1 += a.amount;
                }
                if l.tax_amounts.is_empty()
                    && let Some(r) = &l.reason
                {
                    shown.entry(format!("no tax: {r}")).or_insert((Decimal::ZERO, 0));
                }
            }
            for (j, (pct, amount)) in shown {
                let cur = shared::domain::Currency::parse(b.currency).map_err(|e| e.to_string())?;
                if amount == 0 && pct.is_zero() {
                    say(out, &format!("    {j}"));
                } else {
                    say(out, &format!("    {j:<44} {:>7}%  {:>10}", pct.normalize(), cur.from_minor(amount)));
                }
            }
        }
        drafted.push(inv_id);
    }

    let growth = shape_exposure(&console, &sim, &target, product_ids.first(), out).await?;
    step(out, "Finalise and send the drafts, then sync again");
    for id in drafted.iter().chain(growth.iter()) {
        sim.state.finalise_invoice(id, true).map_err(|e| e.to_string())?;
    }
    console.send(reqwest::Method::POST, &format!("/v1/sequence/connections/{conn_id}/sync"), json!({})).await?;
    wait_for_sync(&server, out).await?;

    step(out, "Collected (by Sequence) vs calculated (by Sphere) for the invoices Sphere taxed");
    let (mut collected, mut calculated) = (Decimal::ZERO, Decimal::ZERO);
    for id in &drafted {
        let t = console.get(&format!("/v1/ledger/transactions/invoice:{id}")).await?;
        let (c, k) = (dec(&t["tax_collected"]), dec(&t["tax_calculated"]));
        say(
            out,
            &format!(
                "{:<12} {:<32} collected {:>9} {}  calculated {:>9} {}  {}",
                t["document_number"].as_str().unwrap_or("?"),
                t["customer_name"].as_str().unwrap_or("?"),
                c,
                t["currency"].as_str().unwrap_or(""),
                k,
                t["currency"].as_str().unwrap_or(""),
                if c == k && !t["tax_calculated"].is_null() { "✓" } else { "✗" }
            ),
        );
        if t["tax_calculated"].is_null() {
            return Err(format!("invoice {id} has no calculated tax in the ledger"));
        }
        collected += c;
        calculated += k;
    }
    let equal = collected == calculated;
    say(
        out,
        &format!(
            "total collected {collected} = total calculated {calculated}: {}",
            if equal { "equal" } else { "DIFFERENT" }
        ),
    );
    let (_, table) = ledger_overview(&console).await?;
    step(out, "The ledger now");
    for line in table {
        say(out, &line);
    }
    let webhook_latency = change_by_webhook(&console, &sim, &conn_id, out).await?;
    let _ = writeln!(out, "\nEXPOSURE — where the account must register, and what to file");
    step(out, "Economic-nexus exposure of the synced account (GET /v1/exposure)");
    let exposure = console.get("/v1/exposure").await?;
    let (table, statuses) = exposure_table(&exposure);
    for line in table {
        say(out, &line);
    }
    // The quarter of the exposure's date (`as_of`, today by the server's clock).
    let as_of = exposure["as_of"].as_str().unwrap_or("2026-01-01");
    let month: u32 = as_of.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    let quarter = format!("{}-Q{}", as_of.get(..4).unwrap_or("2026"), month.div_ceil(3));
    step(out, &format!("Filing report: Georgia, {quarter} (GET /v1/reports/filing; CSV with Accept: text/csv)"));
    let filing = console.get(&format!("/v1/reports/filing?jurisdiction=US-GA&period={quarter}")).await?;
    for line in filing_table(&filing) {
        say(out, &line);
    }
    let _ = writeln!(out, "\nDone in {:.1} s. Data dir: {}", started.elapsed().as_secs_f32(), data_dir.display());
    if !equal {
        return Err("the ledger's collected tax differs from the calculated tax".into());
    }
    let report = Report {
        data_dir: data_dir.clone(),
        imported_transactions: imported,
        demo_invoices: drafted.len(),
        tax_calculated: calculated,
        tax_collected: collected,
        exposure_statuses: statuses,
        webhook_latency,
        filing_csv_rows: filing["currencies"].as_array().map_or(0, Vec::len),
    };
    if opts.keep {
        keep_running(out, &base, &server, &sim).await;
    }
    server_task.abort();
    Ok(report)
}

/// A calculation record (a deferred write: committed by the store's writer within milliseconds).
async fn calculation(
    server: &serve::Server,
    org: &shared::domain::OrgId,
    id: &str,
) -> Result<Option<shared::calculation_record::CalculationRecord>, String> {
    for _ in 0..200 {
        if let Some(c) = shared::calculation_record::get(&server.app.store, org, id).await.map_err(|e| e.to_string())? {
            return Ok(Some(c));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(None)
}

async fn keep_running(out: &mut dyn Write, base: &str, server: &serve::Server, sim: &SimHandle) {
    let _ = writeln!(out, "\n--keep: servers stay up until Ctrl-C");
    say(out, &format!("console:   {base}/console#token={}", server.tokens.test.token));
    say(out, &format!("tax API:   {base}/tax_api/calculate_tax"));
    say(out, &format!("simulator: http://{}  (control API {})", sim.addr, sim.control_url()));
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
}

/// Counts per kind and status, and totals by region, from the console's ledger API.
async fn ledger_overview(console: &Console) -> Result<(usize, Vec<String>), String> {
    let mut counts = std::collections::BTreeMap::<(String, String), usize>::new();
    let mut after: Option<String> = None;
    let mut n = 0;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/ledger/transactions?limit=100&after={a}"),
            None => "/v1/ledger/transactions?limit=100".into(),
        };
        let page = console.get(&path).await?;
        for t in page["items"].as_array().cloned().unwrap_or_default() {
            let kind = if t["type"] == "refund" { "credit notes" } else { "invoices" };
            *counts.entry((kind.into(), t["source_status"].as_str().unwrap_or("?").into())).or_default() += 1;
            n += 1;
        }
        match page["next"].as_str() {
            Some(a) => after = Some(a.to_owned()),
            None => break,
        }
    }
    let products = console.get("/v1/products").await?["items"].as_array().map_or(0, Vec::len);
    let mut lines = vec![format!("products: {products}")];
    for ((kind, status), c) in &counts {
        lines.push(format!("{kind:<13} {status:<8} {c:>5}"));
    }
    let summary = console.get("/v1/ledger/summary").await?;
    lines.push(format!(
        "{:<8} {:<4} {:>6} {:>14} {:>12} {:>12}",
        "region", "cur", "count", "net sales", "collected", "calculated"
    ));
    for r in summary["items"].as_array().cloned().unwrap_or_default() {
        lines.push(format!(
            "{:<8} {:<4} {:>6} {:>14} {:>12} {:>12}",
            r["region"].as_str().unwrap_or("?"),
            r["currency"].as_str().unwrap_or("?"),
            r["count"],
            dec(&r["gross_sales"]).round_dp(2),
            dec(&r["tax_collected"]).round_dp(2),
            dec(&r["tax_calculated"]).round_dp(2),
        ));
    }
    Ok((n, lines))
}

/// A change made in Sequence after the last sync — an invoice voided — reaches the ledger by webhook, with no
/// sync run; returns how long it took.
async fn change_by_webhook(
    console: &Console,
    sim: &SimHandle,
    conn_id: &str,
    out: &mut dyn Write,
) -> Result<Duration, String> {
    let _ = writeln!(out, "\nWEBHOOKS — a change in Sequence reaches the ledger without a sync run");
    let c = console.get(&format!("/v1/sequence/connections/{conn_id}")).await?;
    say(out, &format!("webhooks: {}", if c["webhooks"]["enabled"] == true { "on" } else { "off" }));
    let page = console.get("/v1/ledger/transactions?type=sale&status=active&limit=100").await?;
    let id = page["items"]
        .as_array()
        .and_then(|items| items.iter().rev().find(|t| t["source_status"] == "SENT"))
        .and_then(|t| t["id"].as_str())
        .and_then(|id| id.strip_prefix("invoice:"))
        .ok_or("no sent invoice in the ledger")?
        .to_owned();
    step(out, &format!("Void invoice {id} in Sequence (the simulator sends INVOICE_UPDATED, signed)"));
    let started = Instant::now();
    sim.state.void_invoice(&id).map_err(|e| e.to_string())?;
    loop {
        let t = console.get(&format!("/v1/ledger/transactions/invoice:{id}")).await?;
        if t["source_status"] == "VOIDED" {
            let took = started.elapsed();
            say(
                out,
                &format!(
                    "in the ledger as VOIDED after {:.1} s (version {}), by a targeted job: the webhook was verified, \
                     queued, and the invoice re-fetched from Sequence",
                    took.as_secs_f32(),
                    t["version"]
                ),
            );
            return Ok(took);
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(format!("invoice {id} was not voided in the ledger within 10 s"));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Places the demo can grow a customer in (state, city, ZIP): states whose threshold is $100,000 of gross sales.
const GROWTH_STATES: &[(&str, &str, &str)] = &[
    ("NC", "Charlotte", "28202"),
    ("MA", "Boston", "02110"),
    ("NJ", "Newark", "07102"),
    ("WA", "Seattle", "98101"),
    ("CO", "Denver", "80202"),
    ("AZ", "Phoenix", "85004"),
];

/// Makes the exposure story of the demo: new customers in [`GROWTH_STATES`] sign contracts until at least two US
/// states are crossed by sales and one is approaching (90 % of its threshold). Returns the drafts (finalised with
/// the others); each is taxed by our endpoint like any draft.
async fn shape_exposure(
    console: &Console,
    sim: &SimHandle,
    target: &Target,
    product: Option<&String>,
    out: &mut dyn Write,
) -> Result<Vec<String>, String> {
    let exposure = console.get("/v1/exposure").await?;
    let items = exposure["items"].as_array().cloned().unwrap_or_default();
    let us_crossed = items
        .iter()
        .filter(|e| e["jurisdiction"].as_str().is_some_and(|j| j.starts_with("US-")) && !e["crossed_on"].is_null())
        .count();
    let mut open = GROWTH_STATES.iter().filter_map(|(st, city, zip)| {
        let e = items.iter().find(|e| e["jurisdiction"] == format!("US-{st}") && e["status"] == "below")?;
        Some((*st, *city, *zip, dec(&e["threshold_amount"]), dec(&e["sales"])))
    });
    let mut plan = Vec::new();
    for _ in us_crossed..2 {
        if let Some((st, city, zip, threshold, sales)) = open.next() {
            plan.push((st, city, zip, threshold * Decimal::new(11, 1) - sales, "crosses"));
        }
    }
    if let Some((st, city, zip, threshold, sales)) = open.next() {
        plan.push((st, city, zip, threshold * Decimal::new(9, 1) - sales, "nears"));
    }
    let mut drafts = Vec::new();
    for (st, city, zip, amount, what) in plan {
        let amount = amount.round_dp(2);
        step(
            out,
            &format!("A new customer in {st} signs a {amount} USD contract (the account {what} {st}'s threshold)"),
        );
        let customer = sim
            .state
            .create_customer(sim::NewCustomer {
                target: target.clone(),
                legal_name: format!("Growth Account {st} Inc"),
                address: addr("1 Market St", city, Some(st), zip, "US"),
                tax_status: Some(TaxStatus::Taxed),
                ..Default::default()
            })
            .map_err(|e| e.to_string())?;
        let (id, _) = sim
            .state
            .create_invoice(sim::NewInvoice {
                target: target.clone(),
                customer_id: customer.customer.id.clone(),
                currency: Some("USD".into()),
                status: Some(sim::wire::InvoiceStatus::Draft),
                lines: vec![sim::NewLine {
                    product_id: product.cloned(),
                    quantity: Some(Decimal::ONE),
                    rate: amount,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        say(out, &format!("draft {id} for {}, taxed by our endpoint", customer.customer.legal_name));
        drafts.push(id);
    }
    Ok(drafts)
}

/// The exposure rows worth a reader's attention (every US state with sales, every non-US row with sales or
/// exposure), and the US jurisdictions per status.
fn exposure_table(v: &Value) -> (Vec<String>, std::collections::BTreeMap<String, Vec<String>>) {
    let mut by_status = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut lines = vec![format!(
        "{:<9} {:<12} {:>14} {:>16} {:>7} {:>11} {:>13}",
        "where", "status", "sales", "threshold", "%", "crossed", "register by"
    )];
    for e in v["items"].as_array().cloned().unwrap_or_default() {
        let j = e["jurisdiction"].as_str().unwrap_or("?").to_owned();
        let status = e["status"].as_str().unwrap_or("?").to_owned();
        let sales = dec(&e["sales"]);
        if j.starts_with("US-") {
            by_status.entry(status.clone()).or_default().push(j.clone());
        }
        if sales.is_zero() && status != "exposed" {
            continue;
        }
        let threshold = match e["threshold_transactions"].as_u64() {
            Some(n) => format!(
                "{} {} {} {n}",
                dec(&e["threshold_amount"]),
                e["currency"].as_str().unwrap_or(""),
                e["combine"].as_str().unwrap_or("")
            ),
            None => format!("{} {}", dec(&e["threshold_amount"]), e["currency"].as_str().unwrap_or("")),
        };
        lines.push(format!(
            "{:<9} {:<12} {:>14} {:>16} {:>7} {:>11} {:>13}",
            j,
            status,
            format!("{} {}", sales.round_dp(0), e["currency"].as_str().unwrap_or("")),
            threshold,
            dec(&e["percent"]),
            e["crossed_on"].as_str().unwrap_or("—"),
            e["registration_required_from"].as_str().unwrap_or("—"),
        ));
    }
    (lines, by_status)
}

fn filing_table(v: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for c in v["currencies"].as_array().cloned().unwrap_or_default() {
        let cur = c["currency"].as_str().unwrap_or("");
        lines.push(format!(
            "{} invoices, {} credit notes; gross {} {cur}, exempt {}, taxable {}, tax collected {}, calculated {} \
             ({} documents without our calculation)",
            c["invoices"],
            c["credit_notes"],
            dec(&c["gross_sales"]).round_dp(2),
            dec(&c["exempt_sales"]).round_dp(2),
            dec(&c["taxable_sales"]).round_dp(2),
            dec(&c["tax_collected"]).round_dp(2),
            dec(&c["tax_calculated"]).round_dp(2),
            c["uncalculated_documents"],
        ));
        for j in c["jurisdictions"].as_array().cloned().unwrap_or_default() {
            lines.push(format!(
                "    {:<36} {:<10} taxable {:>12}  tax {:>10}",
                j["jurisdiction"].as_str().unwrap_or("?"),
                j["tax_type"].as_str().unwrap_or(""),
                dec(&j["taxable"]).round_dp(2),
                dec(&j["tax"]).round_dp(2),
            ));
        }
    }
    if lines.is_empty() {
        lines.push("no sales in the period".into());
    }
    lines
}
