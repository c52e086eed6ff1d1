//! County and city rates of the states we hold as jurisdiction tables keyed by county FIPS
//! (`data/us-county-city/<st>.csv`, one rule per state in `data/us-county-city/rules.csv`), not as SST
//! boundary files or place tables with ZIP lists.
//!
//! Why a table of its own: the publications these states' rows come from name jurisdictions, not addresses.
//! What an address gives is still enough for most of the stack: the ZIP5 gives the county (Census ZCTA
//! relation, `us-sst/zip-county.csv`) and the city name gives the city; together they choose the county of a
//! ZIP that spans several. One of two rules per state says how the rows combine:
//! - `adds_to_county`: a city's tax is added to its county's, and county-wide districts (transit) to both
//!   (Oklahoma: Tulsa County 0.367 % + Tulsa 3.65 %).
//! - `replaces_county`: a city row is the whole local rate inside the city and a county row the whole local
//!   rate of its unincorporated area (Washington's location codes, Tennessee, Colorado's published totals).
//!
//! District rows name the counties they cover (Nashville's transit surtax, North Carolina's county transit
//! taxes) or the city they are levied with (`with_city`: Texas crime control and fire districts) and are added
//! under either rule.
//!
//! `unmodelled` in the rule names the jurisdiction kinds a state has that no row can place without boundary
//! data (special districts); every address of the state reports them in `missing_jurisdiction_types`.
//! A state's rows are read the first time an address of the state is priced, not at start-up: they are two
//! thirds of the content's load, and a cold start then pays only for the states it prices (see
//! [`CountyCity::table`]). The reading fails on a county FIPS that is not the state's, a jurisdiction listed
//! twice on overlapping dates, a city name that means two cities with different rates in one county and a row
//! in another state's file; the start-up load fails on a state without a rule or a rule without a table.
//! [`check_all`] reads every state (the data tests and the coverage report do), so a bad row fails the build's
//! tests, never a request.

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::address::{NormAddress, norm_name};
use super::csv::parse;
use super::data::{
    Map, Row, Set, Tables, check_header, check_range, check_sources, err, in_force, overlaps, parse_fips3,
};
use super::error::DataError;
use super::resolve::{LocalOut, county_name, us_juris};
use super::types::{MISSING_CITY, MISSING_DISTRICT, MISSING_LOCAL, Resolution};

/// A state's row of `rules.csv`.
#[derive(Debug)]
struct Rule {
    city: CityRule,
    /// Jurisdiction kinds the table cannot place (reported for every address).
    unmodelled: Vec<&'static str>,
    /// From this date the table lists every local jurisdiction of the state; before it only the jurisdictions
    /// a department publication dates are known, so an earlier date reports `local` as missing.
    complete_from: NaiveDate,
}

/// How a state's city rows combine with its county rows (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CityRule {
    AddsToCounty,
    ReplacesCounty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Level {
    County,
    City,
    District,
}

/// One dated jurisdiction row.
#[derive(Debug)]
struct Jurisdiction {
    level: Level,
    /// Display name (the first of the row's `|`-separated names).
    name: String,
    /// A city's display name folded for matching ([`norm_name`]), its key in `by_city` and the key its own
    /// districts (`with_city`) are found by; empty for county and district rows.
    key: String,
    /// The publication's code (county FIPS, place FIPS, location code); may be empty.
    code: String,
    /// County: its own FIPS; city: the counties it lies in (empty: unknown); district: the counties it covers.
    counties: Vec<u16>,
    /// Percent.
    rate: Decimal,
    from: NaiveDate,
    to: Option<NaiveDate>,
    /// The data file (shared by its rows) and line, for load errors.
    file: Arc<str>,
    line: usize,
}

/// One state: its rule and files, known at start-up, and its rows, read on first use.
#[derive(Debug, Default)]
pub(crate) struct CountyCity {
    /// The files the rows come from (coverage).
    pub files: Vec<String>,
    rule: Option<Rule>,
    /// The embedded files' (path, text), read by [`CountyCity::table`].
    texts: Vec<(&'static str, &'static str)>,
    table: OnceLock<Result<Table, DataError>>,
}

/// A state's rows and their indexes.
#[derive(Debug, Default)]
pub(crate) struct Table {
    rows: Vec<Jurisdiction>,
    /// County FIPS → county and district rows that cover it.
    by_county: Map<u16, Vec<usize>>,
    /// Normalised city name (every alias) → city rows.
    by_city: Map<String, Vec<usize>>,
    /// Normalised city name → district rows levied with that city (Texas crime control districts).
    with_city: Map<String, Vec<usize>>,
    /// Whether any row is a district: a table without cities or districts (Florida's county surtaxes) cannot be
    /// missing one on a date before its `complete_from`.
    has_districts: bool,
}

impl CountyCity {
    /// The state's rows, read and checked on the first call (one thread reads; others wait for it). A data
    /// error is kept and returned on every call.
    pub(crate) fn table(&self, t: &Tables, state: &str) -> Result<&Table, DataError> {
        self.table.get_or_init(|| read(t, state, &self.texts)).as_ref().map_err(DataError::clone)
    }
}

impl Table {
    /// Jurisdictions (distinct names) in the table.
    pub(crate) fn jurisdictions(&self) -> usize {
        self.rows.iter().map(|r| (r.level as u8, r.name.as_str())).collect::<Set<_>>().len()
    }

    /// Whether a city of this (normalised) name is in the table.
    pub(crate) fn knows_city(&self, norm: &str) -> bool {
        self.by_city.contains_key(norm)
    }

    /// The latest effective date among the rows.
    pub(crate) fn as_of(&self) -> Option<NaiveDate> {
        self.rows.iter().map(|r| r.from).max()
    }
}

const HEADER: &[&str] = &[
    "state",
    "level",
    "name",
    "code",
    "counties",
    "with_city",
    "rate",
    "effective_from",
    "effective_to",
    "source",
    "notes",
];

fn fips_list(row: &Row<'_>, v: &str) -> Result<Vec<u16>, DataError> {
    v.split_whitespace()
        .map(|c| parse_fips3(c).ok_or_else(|| row.fail(format!("county {c:?} is not 3 digits"))))
        .collect()
}

/// `us-county-city/<st>.csv` at start-up: the file joins its state (named by the file), read on first use.
pub(crate) fn load_table(
    states: &mut Map<String, CountyCity>,
    file: &'static str,
    text: &'static str,
) -> Result<(), DataError> {
    let state = file
        .strip_prefix("us-county-city/")
        .and_then(|f| f.strip_suffix(".csv"))
        .filter(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase()))
        .map(str::to_ascii_uppercase)
        .ok_or_else(|| err(file, 0, "a county / city table is named after its state: us-county-city/<st>.csv"))?;
    let st = states.entry(state).or_default();
    st.files.push(file.to_owned());
    st.texts.push((file, text));
    Ok(())
}

/// Reads a state's files into its table and checks it.
fn read(t: &Tables, state: &str, texts: &[(&'static str, &str)]) -> Result<Table, DataError> {
    let mut st = Table::default();
    for (file, text) in texts {
        read_file(&mut st, &t.source_ids, state, file, text)?;
    }
    check_table(t, state, &st)?;
    Ok(st)
}

fn read_file(st: &mut Table, sources: &Set<String>, state: &str, file: &str, text: &str) -> Result<(), DataError> {
    let parsed = parse(file, text)?;
    let recs = parsed.records();
    check_header(file, &recs, HEADER)?;
    let shared_file: Arc<str> = Arc::from(file);
    for rec in &recs[1..] {
        let row = Row { file, rec };
        if row.req(0, "state")? != state {
            return Err(row.fail(format!("a row of another state in {state}'s table")));
        }
        let level = match row.req(1, "level")? {
            "county" => Level::County,
            "city" => Level::City,
            "district" => Level::District,
            other => return Err(row.fail(format!("level {other:?} unknown (county, city or district)"))),
        };
        let names: Vec<&str> = row.req(2, "name")?.split('|').map(str::trim).filter(|n| !n.is_empty()).collect();
        let counties = fips_list(&row, row.get(4)?)?;
        let with_city = row.get(5)?;
        match level {
            Level::County if counties.len() != 1 => return Err(row.fail("a county row names exactly its own FIPS")),
            Level::District if counties.is_empty() == with_city.is_empty() => {
                return Err(row.fail("a district row names either the counties it covers or the city it goes with"));
            }
            Level::County | Level::City if !with_city.is_empty() => {
                return Err(row.fail("with_city is for district rows"));
            }
            _ => {}
        }
        let from = row.date(7, "effective_from")?;
        let to = row.opt_date(8, "effective_to")?;
        check_range(&row, from, to)?;
        check_sources(&row, 9, sources)?;
        let j = Jurisdiction {
            level,
            name: names.first().map(|n| (*n).to_owned()).ok_or_else(|| row.fail("name is empty"))?,
            key: if level == Level::City {
                names.first().map(|n| norm_name(n)).unwrap_or_default()
            } else {
                String::new()
            },
            code: row.get(3)?.to_owned(),
            counties,
            rate: row.percent(6, "rate")?,
            from,
            to,
            file: shared_file.clone(),
            line: rec.line,
        };
        let i = st.rows.len();
        if level == Level::City {
            for (k, n) in names.iter().enumerate() {
                let folded = if k == 0 { j.key.clone() } else { norm_name(n) };
                let v = st.by_city.entry(folded).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        } else if !with_city.is_empty() {
            st.with_city.entry(norm_name(with_city)).or_default().push(i);
        } else {
            for c in &j.counties {
                st.by_county.entry(*c).or_default().push(i);
            }
        }
        st.has_districts |= level == Level::District;
        st.rows.push(j);
    }
    Ok(())
}

/// A jurisdiction's identity: its rows are its dated rates.
fn ident(r: &Jurisdiction) -> (Level, &str, &str) {
    (r.level, r.name.as_str(), r.code.as_str())
}

/// `us-county-city/rules.csv`: `state,city_rule,unmodelled,complete_from,source,notes`.
pub(crate) fn load_rules(
    states: &mut Map<String, CountyCity>,
    sources: &Set<String>,
    file: &str,
    text: &str,
) -> Result<(), DataError> {
    let parsed = parse(file, text)?;
    let recs = parsed.records();
    check_header(file, &recs, &["state", "city_rule", "unmodelled", "complete_from", "source", "notes"])?;
    for rec in &recs[1..] {
        let row = Row { file, rec };
        check_sources(&row, 4, sources)?;
        let complete_from = row.date(3, "complete_from")?;
        let rule = match row.req(1, "city_rule")? {
            "adds_to_county" => CityRule::AddsToCounty,
            "replaces_county" => CityRule::ReplacesCounty,
            other => return Err(row.fail(format!("city_rule {other:?} unknown (adds_to_county, replaces_county)"))),
        };
        let unmodelled = row
            .get(2)?
            .split_whitespace()
            .map(|k| match k {
                MISSING_CITY => Ok(MISSING_CITY),
                MISSING_DISTRICT => Ok(MISSING_DISTRICT),
                other => Err(row.fail(format!("unmodelled {other:?} unknown ({MISSING_CITY}, {MISSING_DISTRICT})"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let st = states.entry(row.req(0, "state")?.to_owned()).or_default();
        if st.rule.replace(Rule { city: rule, unmodelled, complete_from }).is_some() {
            return Err(row.fail("a second rule for the state"));
        }
    }
    Ok(())
}

/// Start-up check: every state has a rule and a table.
pub(crate) fn check(t: &Tables) -> Result<(), DataError> {
    for (state, st) in &t.county_city {
        let Some(first) = st.files.first() else {
            return Err(err("us-county-city/rules.csv", 0, format!("{state} has a rule but no table")));
        };
        if st.rule.is_none() {
            return Err(err(first, 0, format!("{state} has no row in us-county-city/rules.csv")));
        }
    }
    Ok(())
}

/// Reads every state's table: the data tests and the coverage report, so a bad row fails before any request.
pub(crate) fn check_all(t: &Tables) -> Result<(), DataError> {
    t.county_city.iter().try_for_each(|(state, st)| st.table(t, state).map(|_| ()))
}

/// A state's table once read: counties that exist, each jurisdiction once per date, and no city name that means
/// two different rates in one county on the same date.
fn check_table(t: &Tables, state: &str, st: &Table) -> Result<(), DataError> {
    let code = super::data::state_code(state)
        .ok_or_else(|| err("us-county-city/rules.csv", 0, format!("{state:?} is not a state")))?;
    for r in &st.rows {
        if let Some(c) = r.counties.iter().find(|c| !t.county_names.contains_key(&(code, **c))) {
            return Err(err(&r.file, r.line, format!("county {c:03} is not a county of {state}")));
        }
    }
    // One jurisdiction (level, name, code) once per date: sorted by start, any overlap shows between
    // neighbours.
    let mut order: Vec<&Jurisdiction> = st.rows.iter().collect();
    order.sort_by(|a, b| (ident(a), a.from).cmp(&(ident(b), b.from)));
    for w in order.windows(2) {
        let (o, j) = (w[0], w[1]);
        if ident(o) == ident(j) && overlaps((o.from, o.to), (j.from, j.to)) {
            return Err(err(
                &j.file,
                j.line,
                format!(
                    "{} is already in force on overlapping dates at {}:{}: a jurisdiction appears once per date",
                    j.name, o.file, o.line
                ),
            ));
        }
    }
    for idx in st.by_city.values() {
        for (n, &i) in idx.iter().enumerate() {
            for &k in &idx[n + 1..] {
                let (a, b) = (&st.rows[i], &st.rows[k]);
                let shared_county =
                    a.counties.is_empty() || b.counties.is_empty() || a.counties.iter().any(|c| b.counties.contains(c));
                if a.rate != b.rate && shared_county && overlaps((a.from, a.to), (b.from, b.to)) {
                    return Err(err(
                        &b.file,
                        b.line,
                        format!(
                            "{} ({} %) and {} ({} %) at line {} answer to one city name in one county",
                            b.name, b.rate, a.name, a.rate, a.line
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The local stack of one address (see the module doc for the rule).
pub(crate) fn locals<'a>(
    t: &'a Tables,
    cc: &'a CountyCity,
    state: &str,
    a: &NormAddress,
    date: NaiveDate,
    out: &mut LocalOut<'a>,
) -> Result<Resolution, DataError> {
    let (rule, unmodelled, complete_from) = match &cc.rule {
        Some(r) => (r.city, r.unmodelled.as_slice(), r.complete_from),
        None => (CityRule::AddsToCounty, &[][..], NaiveDate::MIN),
    };
    let st = cc.table(t, state)?;
    let dated_only = date < complete_from;
    if dated_only {
        out.warnings.push(format!(
            "{state}: our local table lists every jurisdiction from {complete_from}; on {date} only those a department publication dates are applied"
        ));
    }
    let zip_counties: Vec<u16> = a
        .zip5
        .and_then(|z| t.zip_county.get(&z))
        .map(|v| v.iter().filter(|(s, _)| s == state.as_bytes()).map(|(_, c)| *c).collect())
        .unwrap_or_default();
    let live = |i: &usize| in_force(st.rows[*i].from, st.rows[*i].to, date);
    // The city by name, among the cities of that name the ZIP's counties allow.
    let named: Vec<usize> = a
        .place_key
        .as_ref()
        .and_then(|c| st.by_city.get(c))
        .map(|v| v.iter().copied().filter(live).collect())
        .unwrap_or_default();
    let fits = |i: &usize| {
        let r = &st.rows[*i];
        r.counties.is_empty() || zip_counties.is_empty() || r.counties.iter().any(|c| zip_counties.contains(c))
    };
    // A city in several counties may have a row per county part (their county and district taxes differ): the
    // part in the ZIP's main county (its first) answers, and when the ZIP holds other parts too, they are named.
    let part_in = |c: &u16| named.iter().copied().find(|i| st.rows[*i].counties.contains(c));
    let city = zip_counties.iter().find_map(part_in).or_else(|| named.iter().copied().find(fits));
    let parts: Vec<u16> = zip_counties.iter().copied().filter(|c| part_in(c).is_some()).collect();
    if let (Some(i), [first, _, ..]) = (city, parts.as_slice())
        && named.iter().any(|k| !st.rows[*k].counties.contains(first))
    {
        let names: Vec<_> = parts.iter().map(|c| county_name(t, state, *c)).collect();
        out.warnings.push(format!(
            "ZIP {} holds {}'s parts in {}; used its {} part (the ZIP's main county)",
            a.zip5.map(|z| format!("{z:05}")).unwrap_or_default(),
            st.rows[i].name,
            names.join(", "),
            names[0]
        ));
    }
    if city.is_none()
        && let Some(&i) = named.first()
    {
        let r = &st.rows[i];
        let outside: Vec<_> = zip_counties.iter().map(|c| county_name(t, state, *c)).collect();
        out.warnings.push(format!(
            "ZIP {} lies in {}, outside {}; its city tax was not applied (send the city's own ZIP)",
            a.zip5.map(|z| format!("{z:05}")).unwrap_or_default(),
            outside.join(", "),
            r.name
        ));
        out.missing.push(MISSING_CITY);
    }
    // The county: the ZIP's county the city lies in, else the ZIP's first county, else the city's only county.
    let city_counties: &[u16] = city.map_or(&[], |i| st.rows[i].counties.as_slice());
    let county = zip_counties
        .iter()
        .copied()
        .find(|c| city_counties.contains(c))
        .or_else(|| zip_counties.first().copied())
        .or_else(|| (city_counties.len() == 1).then(|| city_counties[0]));
    if zip_counties.len() > 1 && city.is_none_or(|i| st.rows[i].counties.is_empty()) {
        let names: Vec<_> = zip_counties.iter().map(|c| county_name(t, state, *c)).collect();
        out.warnings.push(format!(
            "ZIP {} spans {}; used {} (the city name did not decide)",
            a.zip5.map(|z| format!("{z:05}")).unwrap_or_default(),
            names.join(", "),
            names[0]
        ));
    }
    // Whether a row applies, a dated 0 % among them (a county levying nothing in a period is known, not missing).
    let mut applied = false;
    let mut push = |i: usize| {
        let r = &st.rows[i];
        applied = true;
        if r.rate > Decimal::ZERO && !out.juris.iter().any(|j| j.name == r.name) {
            out.juris.push(us_juris(r.name.clone(), r.rate));
        }
    };
    let county_rows: Vec<usize> =
        county.and_then(|c| st.by_county.get(&c)).map(|v| v.iter().copied().filter(live).collect()).unwrap_or_default();
    let (counties_rows, district_rows): (Vec<usize>, Vec<usize>) =
        county_rows.iter().partition(|i| st.rows[**i].level == Level::County);
    match (rule, city) {
        (CityRule::ReplacesCounty, Some(c)) => push(c),
        (CityRule::ReplacesCounty, None) if counties_rows.is_empty() && county.is_some() => {
            let c = county.map(|c| county_name(t, state, c)).unwrap_or_default();
            out.warnings.push(format!("local rates of {c} outside its cities not in our data on {date}"));
            out.missing.push(MISSING_LOCAL);
        }
        (CityRule::ReplacesCounty, None) => {
            for i in &counties_rows {
                push(*i);
            }
        }
        (CityRule::AddsToCounty, c) => {
            for &i in &counties_rows {
                push(i);
            }
            c.into_iter().for_each(&mut push);
        }
    }
    // County-wide districts (transit surtaxes) are levied on top of whatever the county and city rows say, and
    // a city's own districts (crime control, fire and EMS) with the city.
    for &i in &district_rows {
        push(i);
    }
    if let Some(c) = city {
        let own = st.with_city.get(&st.rows[c].key).into_iter().flatten().copied().filter(live);
        own.collect::<Vec<_>>().into_iter().for_each(&mut push);
    }
    if dated_only {
        // Only rows a department publication dates are known on this date. None of them: the address's local
        // rates are unknown. Some: what the table lists only from `complete_from` may be missing too: the county's
        // tax where a city adds to it (`local`: a county cannot be named apart), a city where none matched, and
        // districts (each only where the table has such rows at all).
        let none = !applied;
        let county_known = matches!((rule, city), (CityRule::ReplacesCounty, Some(_))) || !counties_rows.is_empty();
        if none || !county_known {
            out.miss(MISSING_LOCAL);
        }
        if !none && city.is_none() && !st.by_city.is_empty() {
            out.miss(MISSING_CITY);
        }
        if !none && st.has_districts {
            out.miss(MISSING_DISTRICT);
        }
    }
    if unmodelled.contains(&MISSING_DISTRICT) {
        out.warnings.push(format!(
            "{state}: special districts (transit, improvement and similar) without boundary data are not in our data"
        ));
    }
    for m in unmodelled {
        out.miss(m);
    }
    Ok(match (city, county) {
        (Some(_), _) => Resolution::City,
        (None, Some(_)) => Resolution::Zip5,
        (None, None) => {
            out.warnings.push(format!("no ZIP code or known city: local {state} rates not applied; state rate only"));
            out.missing.push(MISSING_LOCAL);
            Resolution::Region
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: &str = "source_id,title,url,publisher,licence,retrieved,notes\ns1,T,http://x,P,L,2026-01-01,\n";
    const NAMES: &str = "state,county_fips,name\nOK,143,Tulsa County\nOK,145,Wagoner County\nTN,037,Davidson County\n";
    // ZIP 74014 spans Tulsa and Wagoner counties; 74103 is Tulsa only; 37203 Davidson.
    const ZIPS: &str = "zip5,state,county_fips\n74014,OK,145\n74014,OK,143\n74103,OK,143\n37203,TN,037\n";
    const H: &str = "state,level,name,code,counties,with_city,rate,effective_from,effective_to,source,notes\n";
    const RULES: &str = "state,city_rule,unmodelled,complete_from,source,notes\nOK,adds_to_county,special_district,2010-01-01,s1,\nTN,replaces_county,,1980-01-01,s1,\n";

    /// The start-up load of the two test states' rows, without reading their tables.
    fn loaded(ok: &str, tn: &str) -> Result<Tables, DataError> {
        let ok: &'static str = Box::leak(format!("{H}{ok}").into_boxed_str());
        let tn: &'static str = Box::leak(format!("{H}{tn}").into_boxed_str());
        Tables::load(&[
            ("sources.csv", SOURCES),
            ("us-county-city/ok.csv", ok),
            ("us-county-city/rules.csv", RULES),
            ("us-county-city/tn.csv", tn),
            ("us-sst/county-names.csv", NAMES),
            ("us-sst/zip-county.csv", ZIPS),
        ])
    }

    /// [`loaded`] with every table read and checked.
    fn tables(ok: &str, tn: &str) -> Result<Tables, DataError> {
        loaded(ok, tn).and_then(|t| check_all(&t).map(|()| t))
    }

    const OK_ROWS: &str = "OK,county,Tulsa County,143,143,,0.367,2020-01-01,,s1,\n\
        OK,county,Wagoner County,145,145,,1.3,2020-01-01,,s1,\n\
        OK,city,Tulsa,75000,143,,3.65,2020-01-01,,s1,\n\
        OK,city,Broken Arrow,09050,143 145,,4.4,2020-01-01,,s1,\n";
    const TN_ROWS: &str = "TN,county,Davidson County,037,037,,2.25,1989-01-01,,s1,\n\
        TN,city,Nashville|Nashville-Davidson,52006,037,,2.25,1989-01-01,,s1,\n\
        TN,district,Nashville transit surtax,91951,037,,0.5,2025-02-01,,s1,\n";

    fn addr<'a>(state: &'a str, city: Option<&'a str>, zip: Option<u32>) -> NormAddress<'a> {
        NormAddress {
            country: "US".into(),
            region: Some(state.into()),
            region_unknown: None,
            city,
            place_key: city.map(norm_name),
            zip5: zip,
            zip4: None,
            postal: None,
        }
    }

    fn run<'a>(t: &'a Tables, a: &NormAddress<'_>, date: &str) -> (Vec<(String, Decimal)>, LocalOut<'a>, Resolution) {
        let state = a.region.as_deref().unwrap_or_default();
        let mut out = LocalOut::default();
        let r = locals(t, &t.county_city[state], state, a, d(date), &mut out).unwrap();
        (out.juris.iter().map(|j| (j.name.to_string(), j.rate)).collect(), out, r)
    }

    fn d(date: &str) -> NaiveDate {
        NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap()
    }

    fn pct(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn adds_city_to_the_zips_county_and_reports_unmodelled_districts() {
        let t = tables(OK_ROWS, TN_ROWS).unwrap();
        let (j, out, r) = run(&t, &addr("OK", Some("Tulsa"), Some(74103)), "2026-11-01");
        assert_eq!(j, vec![("Tulsa County".into(), pct("0.367")), ("Tulsa".into(), pct("3.65"))]);
        assert_eq!(r, Resolution::City);
        assert_eq!(out.missing, vec![MISSING_DISTRICT]);
        // No city name: the county only.
        let (j, _, r) = run(&t, &addr("OK", None, Some(74103)), "2026-11-01");
        assert_eq!(j, vec![("Tulsa County".into(), pct("0.367"))]);
        assert_eq!(r, Resolution::Zip5);
        // Before the rows: nothing in force, and before the table is complete the gap is reported.
        let (j, out, _) = run(&t, &addr("OK", Some("Tulsa"), Some(74103)), "2009-01-01");
        assert!(j.is_empty());
        assert_eq!(out.missing, vec![MISSING_LOCAL, MISSING_DISTRICT]);
    }

    #[test]
    fn the_city_name_chooses_the_county_of_a_zip_that_spans_two() {
        let t = tables(OK_ROWS, TN_ROWS).unwrap();
        // 74014 lies in Wagoner (first) and Tulsa; Broken Arrow lies in both: the ZIP's first county it lies in.
        let (j, out, _) = run(&t, &addr("OK", Some("Broken Arrow"), Some(74014)), "2026-11-01");
        assert_eq!(j, vec![("Wagoner County".into(), pct("1.3")), ("Broken Arrow".into(), pct("4.4"))]);
        assert!(out.warnings.iter().all(|w| !w.contains("spans")), "{:?}", out.warnings);
        // Tulsa lies only in Tulsa County: the same ZIP addressed "Tulsa" is taxed as Tulsa County + Tulsa.
        let (j, _, _) = run(&t, &addr("OK", Some("Tulsa"), Some(74014)), "2026-11-01");
        assert_eq!(j, vec![("Tulsa County".into(), pct("0.367")), ("Tulsa".into(), pct("3.65"))]);
        // Without a city the ZIP's first county is used, and the warning lists both.
        let (j, out, _) = run(&t, &addr("OK", None, Some(74014)), "2026-11-01");
        assert_eq!(j, vec![("Wagoner County".into(), pct("1.3"))]);
        assert!(out.warnings.iter().any(|w| w.contains("spans Wagoner County, Tulsa County")), "{:?}", out.warnings);
    }

    #[test]
    fn a_city_with_a_row_per_county_part_answers_with_the_part_in_the_zips_main_county() {
        // Colorado's Arvada: its Adams and Jefferson parts differ by the county's tax. Here a city with a part in
        // Tulsa County and one in Wagoner County; ZIP 74014's main county is Wagoner, 74103 lies in Tulsa only.
        let rows = format!(
            "{OK_ROWS}OK,city,Bixby,40-06150-143,143,,2.5,2020-01-01,,s1,\nOK,city,Bixby,40-06150-145,145,,3,2020-01-01,,s1,\n"
        );
        let t = tables(&rows, TN_ROWS).unwrap();
        let (j, out, _) = run(&t, &addr("OK", Some("Bixby"), Some(74014)), "2026-11-01");
        assert_eq!(j, vec![("Wagoner County".into(), pct("1.3")), ("Bixby".into(), pct("3"))]);
        assert!(
            out.warnings.iter().any(
                |w| w.contains("holds Bixby's parts in Wagoner County, Tulsa County; used its Wagoner County part")
            ),
            "{:?}",
            out.warnings
        );
        let (j, out, _) = run(&t, &addr("OK", Some("Bixby"), Some(74103)), "2026-11-01");
        assert_eq!(j, vec![("Tulsa County".into(), pct("0.367")), ("Bixby".into(), pct("2.5"))]);
        assert!(out.warnings.iter().all(|w| !w.contains("parts")), "{:?}", out.warnings);
        // One row over both counties is one rate: no choice to report.
        let (_, out, _) = run(&t, &addr("OK", Some("Broken Arrow"), Some(74014)), "2026-11-01");
        assert!(out.warnings.iter().all(|w| !w.contains("parts")), "{:?}", out.warnings);
    }

    #[test]
    fn a_postal_city_name_outside_the_citys_counties_gets_no_city_tax() {
        let rows = format!("{OK_ROWS}OK,city,Sand Springs,65300,113,,3.5,2020-01-01,,s1,\n");
        let t = tables(&rows, TN_ROWS).unwrap_err();
        // County 113 is not in county-names: the load names the row.
        assert!(t.message.contains("county 113 is not a county of OK"), "{t}");
        let rows = format!("{OK_ROWS}OK,city,Coweta,17700,145,,3,2020-01-01,,s1,\n");
        let t = tables(&rows, TN_ROWS).unwrap();
        let (j, out, _) = run(&t, &addr("OK", Some("Coweta"), Some(74103)), "2026-11-01");
        assert_eq!(j, vec![("Tulsa County".into(), pct("0.367"))]);
        assert_eq!(out.missing, vec![MISSING_CITY, MISSING_DISTRICT]);
    }

    #[test]
    fn replacing_city_rows_are_the_whole_local_rate_and_districts_still_add() {
        let t = tables(OK_ROWS, TN_ROWS).unwrap();
        let (j, out, r) = run(&t, &addr("TN", Some("Nashville"), Some(37203)), "2026-11-01");
        assert_eq!(j, vec![("Nashville".into(), pct("2.25")), ("Nashville transit surtax".into(), pct("0.5"))]);
        assert_eq!(r, Resolution::City);
        assert!(out.missing.is_empty());
        // The alias matches too; before the surtax only the city rate.
        let (j, _, _) = run(&t, &addr("TN", Some("Nashville-Davidson"), Some(37203)), "2024-06-01");
        assert_eq!(j, vec![("Nashville".into(), pct("2.25"))]);
        // Outside a named city: the county's total.
        let (j, _, r) = run(&t, &addr("TN", Some("Antioch"), Some(37203)), "2026-11-01");
        assert_eq!(j, vec![("Davidson County".into(), pct("2.25")), ("Nashville transit surtax".into(), pct("0.5"))]);
        assert_eq!(r, Resolution::Zip5);
    }

    #[test]
    fn a_citys_own_districts_go_with_the_city_only() {
        let rows = format!("{OK_ROWS}OK,district,Tulsa Crime Control,,,Tulsa,0.25,2020-01-01,,s1,\n");
        let t = tables(&rows, TN_ROWS).unwrap();
        let (j, _, _) = run(&t, &addr("OK", Some("Tulsa"), Some(74103)), "2026-11-01");
        assert!(j.contains(&("Tulsa Crime Control".into(), pct("0.25"))), "{j:?}");
        // The same county without the city: no city district.
        let (j, _, _) = run(&t, &addr("OK", None, Some(74103)), "2026-11-01");
        assert_eq!(j, vec![("Tulsa County".into(), pct("0.367"))]);
        // A district names its counties or its city, not both, not neither.
        let both = format!("{OK_ROWS}OK,district,X,,143,Tulsa,0.25,2020-01-01,,s1,\n");
        assert!(tables(&both, TN_ROWS).is_err());
    }

    #[test]
    fn the_load_rejects_duplicates_ambiguous_names_bad_rules_and_bad_counties() {
        let dup = format!("{OK_ROWS}OK,city,Tulsa,75000,143,,3.65,2025-01-01,,s1,\n");
        assert!(tables(&dup, TN_ROWS).unwrap_err().message.contains("overlapping dates"));
        let two_rates = format!("{OK_ROWS}OK,city,Tulsa,99999,143,,2,2020-01-01,,s1,\n");
        assert!(tables(&two_rates, TN_ROWS).unwrap_err().message.contains("answer to one city name"));
        let county_without_fips = "OK,county,Tulsa County,143,,,0.367,2020-01-01,,s1,\n";
        assert!(tables(county_without_fips, TN_ROWS).is_err());
        let district_without_counties = "OK,district,Transit,1,,,0.5,2020-01-01,,s1,\n";
        assert!(tables(district_without_counties, TN_ROWS).is_err());
        let bad_level = "OK,parish,X,1,143,,0.5,2020-01-01,,s1,\n";
        assert!(tables(bad_level, TN_ROWS).is_err());
        // Successive rates of one jurisdiction are fine.
        let dated = format!("{OK_ROWS}OK,city,Tulsa,75000,143,,3.1,2010-01-01,2019-12-31,s1,\n");
        assert!(tables(&dated, TN_ROWS).is_ok());
        // A row in another state's file.
        let tn_in_ok = format!("{OK_ROWS}TN,city,Memphis,48000,037,,2.25,2020-01-01,,s1,\n");
        assert!(tables(&tn_in_ok, TN_ROWS).unwrap_err().message.contains("another state"));
    }

    #[test]
    fn a_states_table_is_read_on_first_use_and_a_bad_row_fails_its_addresses_only() {
        let bad_ok = format!("{OK_ROWS}OK,city,Jenks,38350,143,,two,2020-01-01,,s1,\n");
        let t = loaded(&bad_ok, TN_ROWS).expect("the start-up load does not read the state tables");
        assert!(t.county_city.values().all(|cc| cc.table.get().is_none()), "nothing read yet");
        // Tennessee reads and answers; Oklahoma's bad row is the error of every Oklahoma address, every time.
        let (j, _, _) = run(&t, &addr("TN", Some("Nashville"), Some(37203)), "2026-11-01");
        assert_eq!(j[0], ("Nashville".into(), pct("2.25")));
        assert!(t.county_city["OK"].table.get().is_none(), "Oklahoma is still unread");
        for _ in 0..2 {
            let e = locals(
                &t,
                &t.county_city["OK"],
                "OK",
                &addr("OK", Some("Tulsa"), Some(74103)),
                d("2026-11-01"),
                &mut LocalOut::default(),
            )
            .unwrap_err();
            assert_eq!((e.file.as_str(), e.line), ("us-county-city/ok.csv", 6), "{e}");
        }
        assert_eq!(check_all(&t).unwrap_err().line, 6);
        // A table file is named after its state.
        let misnamed = Tables::load(&[("sources.csv", SOURCES), ("us-county-city/oklahoma.csv", OK_ROWS)]);
        assert!(misnamed.unwrap_err().message.contains("named after its state"));
    }
}
