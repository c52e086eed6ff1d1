//! Engine latency for 1, 10 and 100 lines (targets: 1 line < 5 µs, 100 lines < 250 µs median) and cold load
//! (what a cold start reads, everything, and a cold start with its first call).
//! Run on demand: `cargo bench -p shared --bench tax_engine -- --quick`.
//!
//! Besides criterion's wall-clock figures, it first prints **on-CPU time** per call (Linux
//! `/proc/thread-self/schedstat`), which stays meaningful on a shared, overloaded build machine where wall-clock
//! medians mostly measure the scheduler.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group};
use shared::domain::Currency;
use shared::tax::{Address, CalcInput, Engine, Exemption, LineInput, OrgTaxSettings, Registration, Rounding};

fn settings() -> OrgTaxSettings {
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let reg = |c: &str, r: Option<&str>| Registration {
        country: c.into(),
        region: r.map(Into::into),
        effective_from: from,
        effective_to: None,
        collect: true,
    };
    OrgTaxSettings {
        rounding: Rounding::Line,
        registrations: vec![reg("US", Some("NY")), reg("US", Some("MN")), reg("US", Some("TX")), reg("EU", None)],
        origin_address: None,
    }
}

fn lines(n: usize) -> Vec<LineInput> {
    (0..n)
        .map(|i| LineInput {
            id: format!("line_{i}"),
            amount: 10_000 + i as i64 * 137,
            discount: if i % 3 == 0 { 500 } else { 0 },
            tax_inclusive: i % 5 == 0,
            tax_code: if i % 2 == 0 { "saas".into() } else { "physical_goods".into() },
            ship_to: None,
        })
        .collect()
}

/// Nanoseconds this thread has spent on a CPU (Linux only; `None` elsewhere).
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn cpu_per_call(name: &str, iters: u32, mut f: impl FnMut()) {
    f();
    let (Some(start), t) = (cpu_ns(), std::time::Instant::now()) else { return };
    for _ in 0..iters {
        f();
    }
    let wall = t.elapsed().as_nanos() as f64 / f64::from(iters);
    if let Some(end) = cpu_ns() {
        let cpu = (end - start) as f64 / f64::from(iters);
        println!("cpu-time {name:<28} {:>10.2} µs/call on CPU   ({:.2} µs wall)", cpu / 1000.0, wall / 1000.0);
    }
}

/// A US address.
fn us(state: &str, postal_code: &str, city: Option<&str>) -> Address {
    Address {
        country: "US".into(),
        state: Some(state.into()),
        postal_code: Some(postal_code.into()),
        city: city.map(Into::into),
        ..Address::default()
    }
}

/// An invoice of `n` lines to `to`, in USD, on 2026-11-01.
fn invoice(s: &OrgTaxSettings, to: Address, n: usize) -> CalcInput<'_> {
    CalcInput {
        currency: Currency::parse("usd").unwrap_or_else(|_| unreachable!("usd is ISO 4217")),
        tax_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default(),
        customer_address: to,
        ship_from: None,
        lines: lines(n),
        exemption: Exemption::None,
        buyer_tax_id: None,
        settings: s,
    }
}

fn cpu_report() {
    let s = settings();
    if let Ok(engine) = Engine::global() {
        for (n, iters) in [(1usize, 200_000u32), (10, 40_000), (100, 4_000)] {
            let input = invoice(&s, us("NY", "10001", Some("New York")), n);
            cpu_per_call(&format!("calculate_nyc_{n}_lines"), iters, || {
                black_box(engine.calculate(&input)).ok();
            });
        }
        for (name, to) in one_line_cases() {
            let input = invoice(&s, to, 1);
            cpu_per_call(name, 200_000, || {
                black_box(engine.calculate(&input)).ok();
            });
        }
    }
    // Last, so the engines they build and drop leave the calculations' heap alone (as in a warm Lambda).
    cpu_per_call("cold_load", 20, || {
        black_box(Engine::load().map(|_| ())).ok();
    });
    cpu_per_call("cold_load_all_states", 10, || {
        black_box(Engine::load_all().map(|_| ())).ok();
    });
    let tx = invoice(&s, us("TX", "75766", Some("Jacksonville")), 1);
    cpu_per_call("cold_load_and_first_tx_call", 20, || {
        black_box(Engine::load().map(|e| e.calculate(&tx).is_ok())).ok();
    });
}

/// The other 1-line US calculations: an SST state with a ZIP+4 boundary record, and a place the department
/// table does not list, which the county / city table answers (ZIP → county, city by name).
fn one_line_cases() -> [(&'static str, Address); 2] {
    [
        ("calculate_mn_sst_1_line", us("MN", "55401-1234", None)),
        ("calculate_tx_county_city_1_line", us("TX", "75766", Some("Jacksonville"))),
    ]
}

fn bench(c: &mut Criterion) {
    let s = settings();
    if let Ok(engine) = Engine::global() {
        for n in [1usize, 10, 100] {
            let input = invoice(&s, us("NY", "10001", Some("New York")), n);
            c.bench_function(&format!("calculate_nyc_{n}_lines"), |b| b.iter(|| black_box(engine.calculate(&input))));
        }
        for (name, to) in one_line_cases() {
            let input = invoice(&s, to, 1);
            c.bench_function(name, |b| b.iter(|| black_box(engine.calculate(&input))));
        }
    }
    // Start-up, last (see `cpu_report`): the content a cold start reads (county / city tables are read per state
    // on first use), all of it, and a cold start with the first call of the largest county / city state (Texas).
    c.bench_function("cold_load", |b| b.iter(|| black_box(Engine::load().map(|_| ()))));
    c.bench_function("cold_load_all_states", |b| b.iter(|| black_box(Engine::load_all().map(|_| ()))));
    let tx = invoice(&s, us("TX", "75766", Some("Jacksonville")), 1);
    c.bench_function("cold_load_and_first_tx_call", |b| {
        b.iter(|| black_box(Engine::load().map(|e| e.calculate(&tx).is_ok())));
    });
}

criterion_group!(benches, bench);

/// `ENGINE_CALLS=<case>:<n>`: one warm-up calculation of the case, then `n` more, and exit (no criterion). For
/// counting instructions under valgrind (`scripts/bench.sh`): the difference between two counts divided by the
/// difference in `n` is the instructions of one calculation, a figure this VM's 2× swings in speed do not move.
fn engine_calls(spec: &str) -> Result<(), String> {
    let (case, n) = spec.split_once(':').ok_or("ENGINE_CALLS is <case>:<n>")?;
    let n: u32 = n.parse().map_err(|e| format!("ENGINE_CALLS count: {e}"))?;
    let s = settings();
    let nyc = |lines| invoice(&s, us("NY", "10001", Some("New York")), lines);
    let input = match case {
        "calculate_nyc_1_lines" => nyc(1),
        "calculate_nyc_100_lines" => nyc(100),
        other => one_line_cases()
            .into_iter()
            .find(|(name, _)| *name == other)
            .map(|(_, to)| invoice(&s, to, 1))
            .ok_or_else(|| format!("unknown case {other:?}"))?,
    };
    let engine = Engine::global().map_err(|e| e.to_string())?;
    for _ in 0..=n {
        black_box(engine.calculate(&input)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() {
    if let Ok(spec) = std::env::var("ENGINE_CALLS") {
        if let Err(e) = engine_calls(&spec) {
            eprintln!("{e}");
            std::process::exit(2);
        }
        return;
    }
    cpu_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
