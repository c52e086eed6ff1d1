//! `sphere-local bench-webhooks`: webhook-to-ledger latency on the local server (`scripts/bench.sh` publishes it
//! in `docs/performance.md`). The simulator (no rate limit) and `sphere-local`'s server run in this process over
//! loopback; the account is connected and synced through the console API, then invoices are voided in the
//! simulator one after another and each is timed from the void to the moment the ledger holds it as `VOIDED`:
//! the signed delivery, verification, the replay record, the coalescing delay (`webhook::COALESCE`), the
//! targeted job's re-fetch from the simulator and the fenced upsert.

use crate::serve;
use sequence_sim::{SeedSpec, SimOptions, Simulator, Target};
use shared::domain::Environment;
use std::time::{Duration, Instant};

/// `sphere-local bench-webhooks`'s options (parsed in [`crate::cli`]).
pub struct WebhookBenchOptions {
    /// Invoices voided (one at a time).
    pub changes: usize,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn bench_webhooks(opts: WebhookBenchOptions) -> Result<(), String> {
    run(&crate::bench::ScratchDir::new("bench-webhooks"), &opts).await
}

async fn run(dir: &std::path::Path, opts: &WebhookBenchOptions) -> Result<(), String> {
    let invoices = u32::try_from(opts.changes * 3).unwrap_or(u32::MAX).max(60);
    let sim = Simulator::start(SimOptions {
        data: Some(SeedSpec { customers: 20, invoices, ..SeedSpec::default() }),
        rate_limit_per_minute: None,
        ..SimOptions::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let (base, server, task) = serve::start_beside(dir, &sim).await?;
    let http = reqwest::Client::new();
    let token = server.tokens.test.token.clone();
    let c = sim.credentials(Environment::Sandbox);
    let conn: serde_json::Value = http
        .post(format!("{base}/v1/sequence/connections"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret}))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let conn_id = conn["id"].as_str().ok_or("connect failed")?.to_owned();
    if conn["webhooks"]["enabled"] != true {
        return Err(format!("webhooks are off: {}", conn["webhooks"]));
    }
    http.post(format!("{base}/v1/sequence/connections/{conn_id}/sync"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !server.sync_pending.idle(Duration::from_secs(120)).await {
        return Err("the first sync did not finish".into());
    }
    let ids: Vec<String> = sim.state.with(|w| {
        w.account_index(&Target { environment: Some(Environment::Sandbox), account_id: None })
            .map(|a| {
                w.accounts[a]
                    .invoices
                    .iter()
                    .filter(|r| r.invoice.status == sequence_sim::wire::InvoiceStatus::Sent)
                    .take(opts.changes)
                    .map(|r| r.invoice.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    });
    let ledger = shared::ledger::Ledger::new(
        &server.app.store,
        server.tokens.test.org_id.clone(),
        shared::domain::ConnectionId::parse(conn_id.as_str()).map_err(|e| e.to_string())?,
    );
    let mut times = Vec::with_capacity(ids.len());
    for id in &ids {
        let started = Instant::now();
        sim.state.void_invoice(id).map_err(|e| e.to_string())?;
        loop {
            let head = ledger.head(shared::ledger::DocKind::Invoice, id).await.map_err(|e| e.to_string())?;
            if head.is_some_and(|h| h.value.txn.source_status == "VOIDED") {
                times.push(started.elapsed());
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("invoice {id} did not reach the ledger within 30 s"));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // The endpoint's own answer time: signed deliveries posted straight to it (each a new timestamp, so none is a
    // replay), for a document already pending or not — what Sequence waits for.
    let rec = shared::connection::get(&server.app.store, &server.tokens.test.org_id, ledger.connection())
        .await
        .map_err(|e| e.to_string())?
        .ok_or("connection gone")?
        .value;
    let path_token = rec.webhooks.as_ref().and_then(|w| w.token.clone()).ok_or("no webhook token")?;
    let secret = shared::store::SecretStore::get_secret(
        &server.app.store,
        &shared::connection::webhook_secret_name(&rec.secret_name),
    )
    .await
    .map_err(|e| e.to_string())?
    .ok_or("no webhook secret")?;
    let mut answers = Vec::with_capacity(200);
    let account = sim.credentials(Environment::Sandbox).account_id;
    let now = chrono::Utc::now().timestamp_millis();
    for i in 0..200i64 {
        let id = &ids[usize::try_from(i).unwrap_or(0) % ids.len().max(1)];
        let body = serde_json::json!({"notificationType": "INVOICE_UPDATED", "sequenceAccountId": account,
            "resourceType": "INVOICE", "resourceId": id})
        .to_string();
        let signature = shared::webhook::sign(secret.expose().as_bytes(), now + i, body.as_bytes());
        let started = Instant::now();
        let resp = http
            .post(format!("{base}/webhooks/sequence/{path_token}"))
            .header("Sequence-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answers.push(started.elapsed());
        if !resp.status().is_success() {
            return Err(format!("the endpoint answered {}", resp.status()));
        }
    }
    answers.sort();
    let answer = |p: f64| answers.get(((answers.len() as f64 - 1.0) * p).round() as usize).copied().map_or(0.0, ms);
    task.abort();
    times.sort();
    let pick = |p: f64| times.get(((times.len() as f64 - 1.0) * p).round() as usize).copied().map_or(0.0, ms);
    let stats = sim.state.webhook_stats();
    println!(
        "| changes | p50 (ms) | p99 (ms) | max (ms) | of which coalescing delay (ms) | deliveries | failed attempts |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} |",
        times.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0),
        ms(webhook::COALESCE),
        stats.delivered,
        stats.failed_attempts
    );
    println!();
    println!(
        "The endpoint's answer (verify, replay record, pending marker, queue) over loopback, 200 signed deliveries: \
         p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms.",
        answer(0.5),
        answer(0.99),
        answer(1.0)
    );
    Ok(())
}
