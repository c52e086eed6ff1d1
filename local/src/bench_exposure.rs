//! `sphere-local bench-exposure`: the exposure and filing reports over a ledger of a million invoices on the
//! embedded store (`scripts/bench.sh` publishes the table in `docs/performance.md`).
//!
//! The ledger is written through the sync's own write path (`Ledger::upsert_transaction` under a lease, which
//! keeps the running totals in the same atomic write), one writer per region so that no two writers touch the
//! same counter, over two years before the report date; 1 document in 30 is a credit note, 1 invoice in 50 is
//! voided, European sales are in euros. Then each report is timed as the API runs it (read the month counters,
//! evaluate or sum, encode) and the number of items it read is printed; last, the kept counters are compared with
//! a recomputation from every transaction.

use serde_json::json;
use shared::domain::{ConnectionId, OrgId};
use shared::exposure::counters::month_of;
use shared::exposure::engine::{self, Org};
use shared::exposure::filing::{self, FilingPeriod};
use shared::ledger::{Ledger, TxnContent};
use shared::store::{EmbeddedStore, lease};
use std::time::{Duration, Instant};

/// `sphere-local bench-exposure`'s options (parsed in [`crate::cli`]).
pub struct ExposureBenchOptions {
    pub invoices: u32,
    /// Timed runs of each report.
    pub runs: usize,
}

/// Every US state and DC, and a few other regions (one writer each).
const REGIONS: &[&str] = &[
    "US-AL", "US-AK", "US-AZ", "US-AR", "US-CA", "US-CO", "US-CT", "US-DE", "US-DC", "US-FL", "US-GA", "US-HI",
    "US-ID", "US-IL", "US-IN", "US-IA", "US-KS", "US-KY", "US-LA", "US-ME", "US-MD", "US-MA", "US-MI", "US-MN",
    "US-MS", "US-MO", "US-MT", "US-NE", "US-NV", "US-NH", "US-NJ", "US-NM", "US-NY", "US-NC", "US-ND", "US-OH",
    "US-OK", "US-OR", "US-PA", "US-RI", "US-SC", "US-SD", "US-TN", "US-TX", "US-UT", "US-VT", "US-VA", "US-WA",
    "US-WV", "US-WI", "US-WY", "CA-ON", "CA-QC", "DE", "FR", "GB", "AU",
];

const AS_OF: (i32, u32, u32) = (2026, 11, 26);

fn template() -> Result<TxnContent, String> {
    serde_json::from_value(json!({
        "kind": "invoice", "source_id": "x", "number": null, "txn_type": "sale", "status": "active",
        "source_status": "SENT", "currency": "USD", "event_date": "2026-01-01", "issue_date": null,
        "accounting_date": null,
        "customer": {"id": "c", "name": "Customer", "address": null, "address_source": "none", "tax_status": "TAXED",
                     "tax_status_inferred": false, "tax_id": null},
        "region": "US-WA", "refunded_invoice_id": null, "calculation_id": null, "net_total": "0", "tax_total": "0",
        "gross_total": "0", "taxable_total": "0", "tax_calculated_total": null, "lines": [], "source_version": "1",
        "source_updated_at": null, "header_hash": "", "content_hash": "",
    }))
    .map_err(|e| e.to_string())
}

/// Document `i` of region `r` (deterministic).
fn document(t: &TxnContent, region: &str, i: u32, per_region: u32, as_of: chrono::NaiveDate) -> TxnContent {
    let mut d = t.clone();
    let credit = i % 30 == 29;
    let id = format!("{region}-{i}");
    d.kind = if credit { shared::ledger::DocKind::Credit } else { shared::ledger::DocKind::Invoice };
    d.txn_type = if credit { shared::ledger::TxnType::Refund } else { shared::ledger::TxnType::Sale };
    d.status =
        if !credit && i % 50 == 7 { shared::ledger::TxnStatus::Cancelled } else { shared::ledger::TxnStatus::Active };
    d.event_date = as_of - chrono::Days::new(u64::from(i) * 729 / u64::from(per_region.max(1)));
    let cents = 5_000 + i64::from((i.wrapping_mul(2_654_435_761)) % 200_000);
    d.net_total = shared::domain::Decimal::new(cents, 2);
    d.taxable_total = d.net_total;
    d.tax_total = shared::domain::Decimal::new(cents * 7 / 100, 2);
    d.gross_total = d.net_total + d.tax_total;
    d.region = Some(region.to_owned());
    d.currency = match region {
        "DE" | "FR" => shared::domain::Currency::parse("EUR"),
        "GB" => shared::domain::Currency::parse("GBP"),
        "AU" => shared::domain::Currency::parse("AUD"),
        r if r.starts_with("CA-") => shared::domain::Currency::parse("CAD"),
        _ => shared::domain::Currency::parse("USD"),
    }
    .unwrap_or(d.currency);
    d.content_hash = id.clone();
    d.header_hash = id.clone();
    d.source_id = id;
    d
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Runs `f` `runs` times; (median ms, max ms).
async fn time<F, Fut>(runs: usize, mut f: F) -> Result<(f64, f64), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 1.0)))
}

pub async fn bench_exposure(opts: ExposureBenchOptions) -> Result<(), String> {
    run(&crate::bench::ScratchDir::new("bench-exposure"), &opts).await
}

async fn run(dir: &std::path::Path, opts: &ExposureBenchOptions) -> Result<(), String> {
    let store = EmbeddedStore::open(dir).map_err(|e| e.to_string())?;
    let org = OrgId::parse("org_bench").map_err(|e| e.to_string())?;
    let conn = ConnectionId::parse("conn_bench").map_err(|e| e.to_string())?;
    let as_of = chrono::NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).ok_or("date")?;
    let key = shared::layout::lease_key(&org, &conn);
    let guard = lease::acquire(&store, &key, "bench", 0, i64::MAX / 4)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("lease taken")?;
    Ledger::new(&store, org.clone(), conn.clone()).ensure_counters(&guard).await.map_err(|e| e.to_string())?;
    let template = template()?;
    let regions = u32::try_from(REGIONS.len()).unwrap_or(1);
    let per_region = opts.invoices.div_ceil(regions);

    // Write: one task per region, through the sync's upsert (transaction + counters in one atomic write).
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for region in REGIONS {
        let (store, org, conn, guard, template) =
            (store.clone(), org.clone(), conn.clone(), guard.clone(), template.clone());
        tasks.spawn(async move {
            let ledger = Ledger::new(&store, org, conn);
            for i in 0..per_region {
                let doc = document(&template, region, i, per_region, as_of);
                ledger.upsert_transaction(&guard, doc, 1).await.map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    let written = started.elapsed();
    let documents = u64::from(per_region) * u64::from(regions);

    let ledger = Ledger::new(&store, org.clone(), conn.clone());
    // The first exposure request of a container parses the thresholds and the rate table once.
    let load = Instant::now();
    let (rules, rates) = shared::exposure::content().map_err(|e| e.to_string())?;
    let load_ms = load.elapsed().as_secs_f64() * 1000.0;
    let registrations = Vec::new();
    let org_facts = Org { registrations: &registrations, origin_country: Some("US".into()), origin_region: None };
    let first = engine::first_month(as_of);
    let last = month_of(as_of);
    let exposure_items = ledger.counters(&first, &last).await.map_err(|e| e.to_string())?.len();
    let (exp_p50, exp_max) = time(opts.runs, || async {
        let counters = ledger.counters(&first, &last).await.map_err(|e| e.to_string())?;
        let rows = engine::evaluate(
            rules,
            rates,
            &counters,
            &org_facts,
            as_of,
            shared::domain::Decimal::from(engine::APPROACHING_PERCENT),
        );
        serde_json::to_vec(&rows).map_err(|e| e.to_string())?;
        Ok(())
    })
    .await?;
    let (read_p50, _) = time(opts.runs, || async {
        ledger.counters(&first, &last).await.map_err(|e| e.to_string())?;
        Ok(())
    })
    .await?;
    let period = FilingPeriod::parse("2026-Q3").map_err(|e| e.to_string())?;
    let (q_first, q_last) = period.months();
    let filing_items = ledger.counters(&q_first, &q_last).await.map_err(|e| e.to_string())?.len();
    let (fil_p50, fil_max) = time(opts.runs, || async {
        let counters = ledger.counters(&q_first, &q_last).await.map_err(|e| e.to_string())?;
        let report = filing::report("US-WA", "2026-Q3", period, &counters);
        filing::to_csv(&report).map_err(|e| e.to_string())?;
        Ok(())
    })
    .await?;
    let check = Instant::now();
    let kept = ledger.all_counters().await.map_err(|e| e.to_string())?;
    let equal = kept == ledger.recomputed_counters().await.map_err(|e| e.to_string())?;
    let check_secs = check.elapsed().as_secs_f64();
    let exposed = engine::evaluate(
        rules,
        rates,
        &ledger.counters(&first, &last).await.map_err(|e| e.to_string())?,
        &org_facts,
        as_of,
        shared::domain::Decimal::from(engine::APPROACHING_PERCENT),
    )
    .iter()
    .filter(|e| e.status == engine::Status::Exposed)
    .count();

    println!("| step | documents | items read | median (ms) | slowest (ms) | note |");
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| write through the sync's upsert | {documents} | — | — | — | {:.0} s, {:.0} documents/s, {} writers (one per region) |",
        written.as_secs_f64(),
        documents as f64 / written.as_secs_f64(),
        REGIONS.len()
    );
    println!(
        "| exposure report (`GET /v1/exposure`), as of {as_of} | {documents} | {exposure_items} | {exp_p50:.1} | {exp_max:.1} | months {first} to {last} (reading them: {read_p50:.1} ms), {} jurisdictions evaluated, {exposed} exposed; {} runs |",
        rules.jurisdictions().count(),
        opts.runs
    );
    println!(
        "| filing report (`GET /v1/reports/filing`, CSV), US-WA 2026-Q3 | {documents} | {filing_items} | {fil_p50:.1} | {fil_max:.1} | {} runs |",
        opts.runs
    );
    println!(
        "| counters = recomputation from every transaction | {documents} | all | {:.0} | — | {} counters, equal: {equal} |",
        check_secs * 1000.0,
        kept.len()
    );
    println!();
    println!(
        "Loading the thresholds ({} jurisdictions) and the ECB rate table once per container (the first exposure \
         request): {load_ms:.1} ms.",
        rules.jurisdictions().count()
    );
    if !equal {
        return Err("the kept counters differ from a recomputation".into());
    }
    Ok(())
}
