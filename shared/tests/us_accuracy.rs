//! Accuracy against the revenue departments: every row of `fixtures/us-accuracy.csv` is a US address (city +
//! ZIP5) with the combined rate a state's own publication shows for it (rate table, lookup result, rate chart,
//! ordinance or press release), with the URL and the date from which the publication says it is in force. The
//! fixture is independent of the tables the engine loads (`data/`): it is read from other publications, never
//! from our data files.
//!
//! Every address is priced on its publication's date. Where our local data for the address does not reach back
//! to that date (much of it is known only from 2026), the local part is taken from the first day after it on
//! which our data holds the address's local rates (at the latest [`EVAL_DATE`]) and added to the state rate of
//! the publication's date (state rates are dated back decades): a rate stays in force until it is changed, so a
//! local change between the publication and that day shows up as a miss whose cause names the change, while a
//! change our data dates later than that day (Mecklenburg's transit tax of 2026-07-01) is not held against a
//! publication that predates it.
//!
//! Independence is checked, not assumed: a fixture row read from a publication that also supplies a loaded value
//! on its own (a `us-county-city` row citing no compilation, only the department) is left out of the share and
//! listed, since matching it would prove only that we copied it.
//!
//! The test prints the share that matches and every miss with what we answered. It fails when the share drops
//! below the floor, when an address misses that `fixtures/us-accuracy-misses.csv` does not list (with its
//! cause), or when a listed miss has started to match (so the list stays true).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
mod us_address;

use shared::tax::{Address, CalcInput, Engine, MISSING_DISTRICT, MISSING_LOCAL};
use us_address::percent;

/// The share of independent fixture addresses that must match: the level reached (issue 15 asks for 97 %; the
/// misses and their causes are in `fixtures/us-accuracy-misses.csv`), so that any regression fails.
const FLOOR_PERCENT: u32 = 97;

/// Publications in force from this day on are "recent" (the share over them is printed and held to its floor).
const RECENT_FROM: (i32, u32, u32) = (2025, 1, 1);

/// The share of the recent publications that must match (issue 15's 97 %).
const RECENT_FLOOR_PERCENT: u32 = 97;

/// The day every address is priced on.
const EVAL_DATE: (i32, u32, u32) = (2026, 11, 1);

struct Case {
    line: usize,
    state: String,
    city: String,
    zip5: String,
    url: String,
    date: NaiveDate,
    expected: Decimal,
}

fn read_csv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines.next().map(|h| split(h).into_iter().collect()).unwrap_or_default();
    lines.map(|l| header.iter().cloned().zip(split(l)).collect()).collect()
}

/// RFC 4180 fields of one line (quotes, doubled quotes); the fixtures have no embedded newlines.
fn split(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().map(|f| f.push('"')).unwrap_or_default();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().map(|f| f.push(c)).unwrap_or_default(),
        }
    }
    out
}

fn cases() -> Vec<Case> {
    let rows = read_csv(include_str!("fixtures/us-accuracy.csv"));
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let get = |k: &str| r.get(k).cloned().unwrap_or_default();
            for k in ["source_url", "source_title", "publisher"] {
                assert!(!get(k).is_empty(), "us-accuracy.csv line {}: {k} is empty", i + 2);
            }
            Case {
                line: i + 2,
                state: get("state"),
                city: get("city"),
                zip5: get("zip5"),
                url: get("source_url"),
                date: NaiveDate::parse_from_str(&get("date"), "%Y-%m-%d")
                    .unwrap_or_else(|e| panic!("us-accuracy.csv line {}: date: {e}", i + 2)),
                expected: get("combined_percent")
                    .parse()
                    .unwrap_or_else(|e| panic!("us-accuracy.csv line {}: combined_percent: {e}", i + 2)),
            }
        })
        .collect()
}

/// The combined rate on the input's date; when the engine does not hold the address's local data on that date, the
/// state part of that date plus the local part of the first of `days` after it on which the engine holds the
/// address's local data (the last of `days` if none). `Err` carries the engine's error or the reason.
fn combined(engine: &Engine, input: &CalcInput<'_>, days: &[NaiveDate]) -> Result<Decimal, String> {
    let on =
        |date: NaiveDate| engine.calculate(&CalcInput { tax_date: date, ..input.clone() }).map_err(|e| e.to_string());
    let full = on(input.tax_date)?;
    let later: Vec<NaiveDate> = days.iter().copied().filter(|d| *d > input.tax_date).collect();
    let Some(&last) = later.last() else { return Ok(percent(full.lines[0].tax)) };
    // Our data holds the address's local rates on a day when nothing is missing that is not missing on the last
    // day too (a state's unmodelled special districts are missing every day). Short of `local`, it holds them too
    // when every jurisdiction that taxes the address on the last day has a dated rate that day: what the engine
    // may still flag then (a city or district a table lists only from its `complete_from`) is absent from the
    // last day's answer as well. Where the last day's answer comes from another table, which names the same
    // jurisdictions differently, they are counted instead, and only a district may be flagged beyond the last
    // day's gaps.
    let last_out = on(last)?;
    let names = |o: &shared::tax::CalcOutput| -> std::collections::BTreeSet<String> {
        o.lines[0].tax_amounts.iter().map(|t| t.rate.jurisdiction.clone()).collect()
    };
    let last_names = names(&last_out);
    let always = last_out.missing_jurisdiction_types;
    let local_known = |o: &shared::tax::CalcOutput| {
        let missing = &o.missing_jurisdiction_types;
        let beyond_last = |extra: Option<&str>| missing.iter().all(|m| always.contains(m) || Some(*m) == extra);
        let mine = names(o);
        !missing.contains(&MISSING_LOCAL)
            && (beyond_last(None)
                || mine.is_superset(&last_names)
                || (beyond_last(Some(MISSING_DISTRICT)) && mine.len() >= last_names.len()))
    };
    if local_known(&full) {
        return Ok(percent(full.lines[0].tax));
    }
    let day = later.iter().copied().find(|d| on(*d).is_ok_and(|o| local_known(&o))).unwrap_or(last);
    let now = on(day)?;
    let state_only = |date: NaiveDate| {
        let only = CalcInput {
            tax_date: date,
            customer_address: Address {
                country: "US".into(),
                state: input.customer_address.state.clone(),
                ..Address::default()
            },
            ..input.clone()
        };
        engine.calculate(&only).map(|o| o.lines[0].tax).map_err(|e| e.to_string())
    };
    Ok(percent(state_only(input.tax_date)? + now.lines[0].tax - state_only(day)?))
}

/// Every row of `data/us-county-city/` (the tables and `rules.csv`), read once for [`data_days`] and
/// [`own_value_urls`].
fn county_city_rows() -> Vec<BTreeMap<String, String>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/us-county-city");
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(dir).expect("us-county-city") {
        rows.extend(read_csv(&std::fs::read_to_string(entry.expect("entry").path()).expect("read")));
    }
    rows
}

/// The days on which our county / city data changes (rows' first days, states' `complete_from`) up to `last`,
/// and `last` itself: where the local part of an address may start to be known.
fn data_days(rows: &[BTreeMap<String, String>], last: NaiveDate) -> Vec<NaiveDate> {
    let mut days = std::collections::BTreeSet::from([last]);
    for r in rows {
        for k in ["effective_from", "complete_from"] {
            if let Some(d) = r.get(k).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
                days.extend(Some(d).filter(|d| *d <= last));
            }
        }
    }
    days.into_iter().collect()
}

/// URLs of the publications that supply loaded values on their own (rows of `data/us-county-city/` whose
/// sources do not include the compilation they cross-check). A fixture row is dependent when its URL starts with
/// one: a source may name a whole site whose pages are one family of tables (Louisiana's LATA parish tables).
fn own_value_urls(rows: &[BTreeMap<String, String>]) -> std::collections::BTreeSet<String> {
    let sources =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/sources.csv")).expect("sources.csv");
    let url: BTreeMap<String, String> = read_csv(&sources)
        .into_iter()
        .map(|r| (r.get("source_id").cloned().unwrap_or_default(), r.get("url").cloned().unwrap_or_default()))
        .collect();
    let mut out = std::collections::BTreeSet::new();
    for r in rows {
        let src = r.get("source").cloned().unwrap_or_default();
        if !src.contains("taxlocus") {
            out.extend(src.split(';').filter_map(|id| url.get(id.trim()).cloned()));
        }
    }
    out
}

fn key(state: &str, city: &str, zip5: &str) -> String {
    format!("{state}|{}|{zip5}", city.to_ascii_uppercase())
}

#[test]
fn us_addresses_match_the_revenue_departments() {
    let engine = Engine::global().expect("tax content loads");
    let cases = cases();
    assert!(cases.len() >= 400, "the fixture has {} addresses; issue 15 asks for at least 400", cases.len());
    let eval_date = NaiveDate::from_ymd_opt(EVAL_DATE.0, EVAL_DATE.1, EVAL_DATE.2).expect("date");
    let listed: BTreeMap<String, String> = read_csv(include_str!("fixtures/us-accuracy-misses.csv"))
        .into_iter()
        .map(|r| {
            let g = |k: &str| r.get(k).cloned().unwrap_or_default();
            (key(&g("state"), &g("city"), &g("zip5")), g("cause"))
        })
        .collect();
    let rows = county_city_rows();
    let own = own_value_urls(&rows);
    let days = data_days(&rows, eval_date);
    let (cases, dependent): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| !own.iter().any(|u| c.url.starts_with(u.as_str())));
    for c in &dependent {
        println!("  not independent (line {}): {} {} — {} supplies loaded values", c.line, c.state, c.city, c.url);
    }
    let mut misses = Vec::new();
    let mut states = BTreeMap::<String, (u32, u32)>::new();
    for c in &cases {
        let settings = us_address::registered_in(&c.state);
        let input = us_address::request(&settings, &c.state, &c.city, &c.zip5, c.date);
        let got = combined(engine, &input, &days);
        let entry = states.entry(c.state.clone()).or_default();
        entry.0 += 1;
        if got.as_ref().is_ok_and(|g| *g == c.expected.normalize()) {
            entry.1 += 1;
        } else {
            misses.push((c, got));
        }
    }
    let total = u32::try_from(cases.len()).unwrap_or(u32::MAX);
    let matched = total - u32::try_from(misses.len()).unwrap_or(0);
    println!("US accuracy: {matched} of {total} addresses match the departments' combined rate");
    // The same for the publications in force from RECENT_FROM on: an older one may predate a change it cannot show.
    let recent_from = NaiveDate::from_ymd_opt(RECENT_FROM.0, RECENT_FROM.1, RECENT_FROM.2).expect("date");
    let recent = u32::try_from(cases.iter().filter(|c| c.date >= recent_from).count()).unwrap_or(u32::MAX);
    let recent_missed = u32::try_from(misses.iter().filter(|(c, _)| c.date >= recent_from).count()).unwrap_or(0);
    println!("US accuracy, publications in force from {recent_from}: {} of {recent} match", recent - recent_missed);
    for (st, (n, ok)) in &states {
        println!("  {st}: {ok}/{n}");
    }
    let mut unlisted = Vec::new();
    for (c, got) in &misses {
        let k = key(&c.state, &c.city, &c.zip5);
        let cause = listed.get(&k).map_or("NOT LISTED", String::as_str);
        println!(
            "  miss line {}: {} {} {} (published for {}): expected {} %, got {:?} — {cause}",
            c.line, c.state, c.city, c.zip5, c.date, c.expected, got
        );
        if !listed.contains_key(&k) {
            unlisted.push(k);
        }
    }
    let stale: Vec<&String> =
        listed.keys().filter(|k| !misses.iter().any(|(c, _)| key(&c.state, &c.city, &c.zip5) == **k)).collect();
    assert!(unlisted.is_empty(), "misses without a cause in fixtures/us-accuracy-misses.csv: {unlisted:?}");
    assert!(stale.is_empty(), "listed as misses but now match (remove them): {stale:?}");
    assert!(matched * 100 >= FLOOR_PERCENT * total, "{matched}/{total} is below {FLOOR_PERCENT} %");
    assert!(
        (recent - recent_missed) * 100 >= RECENT_FLOOR_PERCENT * recent,
        "{}/{recent} recent publications is below {RECENT_FLOOR_PERCENT} %",
        recent - recent_missed
    );
}
