//! `sphere-local bench-tax` and `bench-sync`: the measurements `scripts/bench.sh` publishes in
//! `docs/performance.md`. Figures are measured here, never typed in.
//!
//! - `bench-tax` starts `sphere-local serve --with-sim` as a separate process (so its memory is its
//!   own), connects the sandbox account, issues a key, and drives `POST /tax_api/calculate_tax` over
//!   loopback HTTP with keep-alive at the given concurrencies; it samples the server's RSS.
//! - `bench-sync` imports a generated Sequence account (simulator at zero latency) into a fresh
//!   embedded store, once without a rate limit and once under 1,500 requests/min.

use serde_json::{Value, json};
use shared::domain::Environment;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `sphere-local bench-tax`'s options (parsed in [`crate::cli`]).
pub struct TaxBenchOptions {
    pub seconds: u64,
    pub soak_seconds: u64,
    /// The highest level is measured this many more times in a row (its p99 target must hold in every run).
    pub repeat: usize,
    pub concurrency: Vec<usize>,
}

/// `sphere-local bench-sync`'s options (parsed in [`crate::cli`]).
pub struct SyncBenchOptions {
    pub invoices: u32,
    pub limited_invoices: u32,
    pub scale_credit_notes: u32,
    pub invocation_secs: i64,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// A bench's data dir under the system temp dir, removed when dropped: one `scripts/bench.sh` run writes
/// gigabytes there (the tax soak's records), and left behind they filled the disk.
pub(crate) struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    pub(crate) fn new(prefix: &str) -> Self {
        Self(std::env::temp_dir().join(format!("{prefix}-{}", shared::domain::new_uuid())))
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct ServerProcess {
    child: Child,
    base: String,
    dir: ScratchDir,
}

impl ServerProcess {
    /// Stops the server (SIGKILL: nothing is flushed on the way out) and gives back its data dir.
    fn stop(mut self) -> ScratchDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, ScratchDir(std::path::PathBuf::new()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Result<ServerProcess, String> {
    let dir = ScratchDir::new("sphere-bench");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["serve", "--with-sim", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&*dir)
        .env("RUST_LOG", "warn")
        // One API key carries the whole load: its per-key limit (default 1,500 a minute) would answer 429.
        .env("TAX_KEY_REQUESTS_PER_MINUTE", "60000000")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().ok_or("server printed nothing")?.map_err(|e| e.to_string())?;
    let base = first.split_whitespace().last().ok_or("no address")?.to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    Ok(ServerProcess { child, base, dir })
}

async fn console(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    let r = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if status.is_success() { Ok(v) } else { Err(format!("{path}: {status} {v}")) }
}

/// Percentile of sorted latencies (nearest rank).
fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub async fn bench_tax(opts: TaxBenchOptions) -> Result<(), String> {
    let TaxBenchOptions { seconds, soak_seconds, repeat, concurrency: levels } = opts;
    let server = start_server()?;
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(server.dir.join("console-tokens.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let sim: Value = serde_json::from_slice(
        &std::fs::read(server.dir.join(crate::serve::SIM_CREDENTIALS_FILE)).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let token = tokens["test"]["token"].as_str().ok_or("no token")?;
    let http = reqwest::Client::new();
    let b = &server.base;
    let post = reqwest::Method::POST;
    let conn = console(
        &http,
        b,
        token,
        post.clone(),
        "/v1/sequence/connections",
        json!({"client_id": sim["sandbox"]["client_id"], "client_secret": sim["sandbox"]["client_secret"]}),
    )
    .await?;
    let key = console(
        &http,
        b,
        token,
        post,
        &format!("/v1/sequence/connections/{}/api-keys", conn["id"].as_str().unwrap_or("")),
        json!({}),
    )
    .await?;
    let api_key = key["api_key"].as_str().ok_or("no key")?.to_owned();
    console(
        &http,
        b,
        token,
        reqwest::Method::PUT,
        "/v1/settings",
        json!({"default_product_tax_code": "physical_goods"}),
    )
    .await?;
    console(
        &http,
        b,
        token,
        reqwest::Method::PUT,
        "/v1/registrations/US/GA",
        json!({"effective_from": "2020-01-01", "collect": true}),
    )
    .await?;
    let body = json!({"currency": "usd", "customer_address": {"address1": "55 Trinity Ave SW", "city": "Atlanta", "state": "GA", "postal_code": "30303", "country": "US"},
        "line_items": [{"id": "l1", "product_id": "prod_bench", "amount": 10000}]})
    .to_string();
    let pid = server.child.id();
    println!("| concurrency | requests/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB) |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &c in &levels {
        let r = load(&server.base, &api_key, &body, c, Duration::from_secs(seconds), pid, None).await;
        println!("{}", r.row(&c.to_string()));
    }
    let top = *levels.last().unwrap_or(&64);
    if repeat > 0 {
        println!();
        println!("{repeat} consecutive runs at concurrency {top}:");
        println!();
        println!("| run | requests/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB) |");
        println!("|---:|---:|---:|---:|---:|---:|");
        for run in 1..=repeat {
            let r = load(&server.base, &api_key, &body, top, Duration::from_secs(seconds), pid, None).await;
            println!("{}", r.row(&format!("run {run}")));
        }
    }
    let large = large_calculation(&http, &server.base, &api_key).await?;
    if soak_seconds > 0 {
        let c = top;
        let mut samples = Vec::new();
        let r =
            load(&server.base, &api_key, &body, c, Duration::from_secs(soak_seconds), pid, Some(&mut samples)).await;
        let first = samples.first().copied().unwrap_or(0);
        let last = samples.last().copied().unwrap_or(0);
        println!();
        println!(
            "memory over a {soak_seconds} s run at concurrency {c}: {} requests, {:.0}/s, {} errors; RSS first {:.1} MiB, last {:.1} MiB, max {:.1} MiB (samples every 5 s: {})",
            r.requests,
            r.rps,
            r.errors,
            first as f64 / 1024.0,
            last as f64 / 1024.0,
            r.rss_max_kib as f64 / 1024.0,
            samples.iter().map(|k| format!("{:.1}", *k as f64 / 1024.0)).collect::<Vec<_>>().join(", ")
        );
    }
    // The record of the 1,000-line calculation, read back from the data dir once the server has stopped (its
    // deferred log is replayed at open, as after a crash).
    let dir = server.stop();
    let store = shared::store::EmbeddedStore::open(&dir).map_err(|e| e.to_string())?;
    let org = shared::domain::OrgId::parse(tokens["test"]["org_id"].as_str().unwrap_or_default())
        .map_err(|e| format!("org id: {e:?}"))?;
    let (bytes, items) = record_size(&store, &org, &large.calculation_id).await?;
    println!();
    println!(
        "1,000-line calculation ({} sequential requests, 1,000 distinct products): p50 {:.1} ms, max {:.1} ms; response {} bytes; its calculation record {} bytes in {} item(s) (header + parts, each ≤ 350 KB)",
        large.requests,
        large.p50.as_secs_f64() * 1e3,
        large.max.as_secs_f64() * 1e3,
        large.response_bytes,
        bytes,
        items
    );
    Ok(())
}

struct Large {
    requests: usize,
    p50: Duration,
    max: Duration,
    response_bytes: usize,
    calculation_id: String,
}

/// 20 sequential 1,000-line calculations (each line its own product: one batched product read per request).
async fn large_calculation(http: &reqwest::Client, base: &str, key: &str) -> Result<Large, String> {
    let lines: Vec<Value> = (0..1_000)
        .map(|i| json!({"id": format!("l{i}"), "product_id": format!("prod_{i}"), "amount": 1_000 + i}))
        .collect();
    let body = json!({"currency": "usd", "customer_address": {"address1": "55 Trinity Ave SW", "city": "Atlanta", "state": "GA", "postal_code": "30303", "country": "US"},
        "line_items": lines})
    .to_string();
    let mut lat = Vec::new();
    let mut last: Option<(usize, String)> = None;
    for _ in 0..20 {
        let t = Instant::now();
        let r = http
            .post(format!("{base}/tax_api/calculate_tax"))
            .header("x-api-key", key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status();
        let bytes = r.bytes().await.map_err(|e| e.to_string())?;
        lat.push(t.elapsed());
        if !status.is_success() {
            return Err(format!("1,000-line calculation: {status} {}", String::from_utf8_lossy(&bytes)));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let id = v["data"]["sphere_tax_calculation_id"].as_str().unwrap_or_default().to_owned();
        last = Some((bytes.len(), id));
    }
    lat.sort_unstable();
    let (response_bytes, calculation_id) = last.ok_or("no answer")?;
    Ok(Large {
        requests: lat.len(),
        p50: pct(&lat, 50.0),
        max: lat.last().copied().unwrap_or_default(),
        response_bytes,
        calculation_id,
    })
}

/// Bytes and items of a calculation record as stored (header and parts).
async fn record_size(
    store: &shared::store::EmbeddedStore,
    org: &shared::domain::OrgId,
    id: &str,
) -> Result<(usize, usize), String> {
    shared::calculation_record::stored_size(store, org, id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("calculation {id} not in the store"))
}

struct LoadResult {
    requests: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
    rss_max_kib: u64,
}

impl LoadResult {
    /// One Markdown table row: `label | requests/s | p50 (ms) | p99 (ms) | errors | server RSS (MiB)`.
    fn row(&self, label: &str) -> String {
        format!(
            "| {label} | {:.0} | {:.3} | {:.3} | {} | {:.1} |",
            self.rps,
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.errors,
            self.rss_max_kib as f64 / 1024.0
        )
    }
}

async fn load(
    base: &str,
    key: &str,
    body: &str,
    concurrency: usize,
    duration: Duration,
    pid: u32,
    mut rss_samples: Option<&mut Vec<u64>>,
) -> LoadResult {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap_or_default();
    let url = Arc::new(format!("{base}/tax_api/calculate_tax"));
    // warm-up: one request per connection
    let warm: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, key, body) = (http.clone(), url.clone(), key.to_owned(), body.to_owned());
            tokio::spawn(async move {
                http.post(url.as_str())
                    .header("x-api-key", key)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .is_ok()
            })
        })
        .collect();
    for w in warm {
        let _ = w.await;
    }
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, key, body) = (http.clone(), url.clone(), key.to_owned(), body.to_owned());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(100_000);
                let mut errors = 0;
                while Instant::now() < until {
                    let t = Instant::now();
                    let ok = match http
                        .post(url.as_str())
                        .header("x-api-key", &key)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                    {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    lat.push(t.elapsed());
                    if !ok {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut rss_max = rss_kib(pid).unwrap_or(0);
    let mut next_sample = Instant::now();
    while Instant::now() < until {
        if Instant::now() >= next_sample {
            let r = rss_kib(pid).unwrap_or(0);
            rss_max = rss_max.max(r);
            if let Some(s) = rss_samples.as_deref_mut() {
                s.push(r);
            }
            next_sample += Duration::from_secs(5);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((lat, e)) = t.await {
            all.extend(lat);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    rss_max = rss_max.max(rss_kib(pid).unwrap_or(0));
    all.sort_unstable();
    LoadResult {
        requests: all.len(),
        rps: all.len() as f64 / elapsed,
        p50: pct(&all, 50.0),
        p99: pct(&all, 99.0),
        errors,
        rss_max_kib: rss_max,
    }
}

pub async fn bench_sync(opts: SyncBenchOptions) -> Result<(), String> {
    use sequence_sim::{SeedSpec, SimOptions, Simulator};
    let SyncBenchOptions { invoices, limited_invoices, scale_credit_notes: scale_notes, invocation_secs } = opts;
    println!("| run | documents | Sequence requests | seconds | documents/s | note |");
    println!("|---|---:|---:|---:|---:|---|");
    // (label, invoices, credit notes on top of the 20 % credited invoices, rate limit, invocation budget)
    let long = format!(
        "full reconciliation, {invoices} invoices + {scale_notes} credit notes, {invocation_secs} s invocations"
    );
    for (label, n, extra_notes, rate, budget_ms) in [
        ("first sync, no rate limit".to_owned(), invoices, 0, None, 15 * 60 * 1000),
        ("first sync, 1,500 requests/min".to_owned(), limited_invoices, 0, Some(1_500u32), 15 * 60 * 1000),
        (long, invoices, scale_notes, None, invocation_secs * 1000),
    ] {
        let sim = Simulator::start(SimOptions {
            data: Some(SeedSpec {
                customers: (n / 10).max(20),
                invoices: n,
                credit_note_pct: if extra_notes > 0 { 0 } else { 20 },
                scale_credit_notes: extra_notes,
                ..SeedSpec::default()
            }),
            rate_limit_per_minute: rate,
            ..SimOptions::default()
        })
        .await
        .map_err(|e| e.to_string())?;
        let dir = ScratchDir::new("sphere-bench-sync");
        let mut config = shared::config::Config::defaults();
        config.sequence_sandbox_url = sim.sandbox_url();
        config.sequence_requests_per_minute = rate.unwrap_or(1_000_000);
        let (_router, server) = crate::serve::build(&dir, config).await?;
        // The bench drives every invocation itself: nothing goes to the server's background worker
        // (which would otherwise pick up "sync now" and the continuations and race the bench).
        let app = server.app.clone().with_queue(std::sync::Arc::new(shared::queue::MemoryQueue::default()));
        let c = sim.credentials(Environment::Sandbox);
        let who = shared::org::Principal {
            org: server.tokens.test.org_id.clone(),
            mode: shared::domain::Mode::Test,
            actor: "bench".into(),
        };
        let req = http::Request::builder()
            .method("POST")
            .uri("/v1/sequence/connections")
            .body(bytes::Bytes::from(json!({"client_id": c.client_id, "client_secret": c.client_secret}).to_string()))
            .map_err(|e| e.to_string())?;
        let resp = connect::handle(&app, who.clone(), req).await;
        let conn: Value = serde_json::from_slice(resp.body()).map_err(|e| e.to_string())?;
        let job = shared::queue::SyncMessage {
            org_id: who.org.clone(),
            connection_id: shared::domain::ConnectionId::parse(conn["id"].as_str().unwrap_or(""))
                .map_err(|e| e.to_string())?,
            reason: "bench".into(),
            dedup_id: "bench".into(),
            targets: Vec::new(),
        };
        let started = Instant::now();
        let (mut docs, mut requests, mut invocations, mut checkpoints) = (0u64, 0u64, 0u32, 0u64);
        let mut done = false;
        for i in 0..200 {
            let deadline = app.clock.now_ms() + budget_ms;
            let holder = format!("bench-{i}");
            let Some(report) =
                sync::run_job(&sync::State::of(&app), &job, &holder, deadline).await.map_err(|e| e.to_string())?
            else {
                break;
            };
            invocations += 1;
            if std::env::var_os("BENCH_DEBUG").is_some() {
                eprintln!("{:?} {}", report.outcome, serde_json::to_string(&report.summary).unwrap_or_default());
            }
            docs += report.summary.created + report.summary.updated;
            requests += report.summary.requests;
            checkpoints += report.summary.checkpoints;
            if report.outcome == shared::sync::Outcome::Done {
                done = true;
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let note = match rate {
            None if extra_notes > 0 => format!(
                "{invocations} invocations, {checkpoints} checkpoints{}",
                if done { "" } else { ", NOT FINISHED" }
            ),
            None => String::new(),
            Some(r) => {
                let bound = requests as f64 / f64::from(r) * 60.0;
                format!("rate-limit bound {bound:.1} s → measured/bound = {:.2}", secs / bound)
            }
        };
        println!("| {label} | {docs} | {requests} | {secs:.1} | {:.0} | {note} |", docs as f64 / secs);
        // steady state: a second run with nothing changed
        if rate.is_none() && extra_notes == 0 {
            let deadline = app.clock.now_ms() + 15 * 60 * 1000;
            let t = Instant::now();
            if let Some(r) =
                sync::run_job(&sync::State::of(&app), &job, "bench-2", deadline).await.map_err(|e| e.to_string())?
            {
                println!(
                    "| steady state, nothing changed | {} written | {} ({} line-item) | {:.1} | – | |",
                    r.summary.created + r.summary.updated,
                    r.summary.requests,
                    r.summary.line_item_requests,
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    Ok(())
}
