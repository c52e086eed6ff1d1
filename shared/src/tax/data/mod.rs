//! Loads the tax content embedded from `data/` (see `shared/build.rs`) into lookup tables, validating every row.
//!
//! Why parse at start-up instead of generating Rust tables in `build.rs`: the CSVs are the reviewable source of
//! truth, parsing them takes a few milliseconds (budget: 30 ms at cold start), and one parser serves both the
//! engine and the tests that prove a malformed row fails loudly with `data/<file>:<line>`. The county / city
//! tables, two thirds of that work, are read per state on first use (`county_city`), so a cold start reads only
//! what it prices; the data tests read them all.
//!
//! Files (all CSV with a header unless noted):
//! - `sources.csv`: provenance; every other row's `source` ids (`;`-separated) must exist here.
//! - `rates/*.csv`: country / state / province rates with effective dates.
//! - `us-sst/rates/<ST>R*.csv`, `us-sst/boundary/<ST>B*.csv` (headerless, SST format), `us-sst/zip-county.csv`
//!   (+ `zip-county-postal.csv`, ZIPs without a ZCTA), `us-sst/county-names.csv`: US local rates of Streamlined
//!   Sales Tax states and every ZIP's counties; a new state is a file drop.
//! - `us-local/<st>.csv`: city/county/district rates from revenue departments' tables; `us-local/no-local-tax.csv`.
//! - `us-county-city/<st>.csv` + `rules.csv`: county / city rates keyed by county FIPS (see `county_city`).
//! - `taxability/us.csv`: per-state taxability of our tax codes. `vat/id-formats.csv`: VAT-id templates.
//!
//! Here: the tables, the dispatch by file and the country / state rates; [`sst`] the SST files, [`local`] the
//! departments' place tables, [`row`] the typed reading of one row and the checks every loader shares.

use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::csv::{Record, parse};
use super::error::DataError;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/tax_data_files.rs"));
}

/// The embedded files: (path relative to `data/`, contents).
pub(crate) fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::FILES
}

/// Which kind of VAT rate a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Standard,
    Reduced,
    SuperReduced,
    Parking,
}

/// A country / state / province rate row of `rates/*.csv`.
#[derive(Debug, Clone)]
pub(crate) struct RateRow {
    pub country: String,
    pub region: Option<String>,
    pub jurisdiction: String,
    pub tax_type: &'static str,
    pub kind: Kind,
    /// Percent.
    pub rate: Decimal,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub display_name: String,
}

pub(crate) use local::*;
pub(crate) use row::*;
pub(crate) use sst::*;

mod local;
mod row;
mod sst;
#[cfg(test)]
mod tests;

/// A taxability rule of `taxability/us.csv`.
#[derive(Debug, Clone)]
pub(crate) struct TaxRule {
    pub taxable: bool,
    /// Percent of the amount that is taxable (Texas data processing: 80).
    pub taxable_percent: Decimal,
    /// A different rate for this product (Connecticut business SaaS: 1 %).
    pub rate_override: Option<Decimal>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// The content's maps. Their keys (state codes, place names, ZIPs, jurisdiction codes) come from our own files and
/// are looked up several times in every calculation; no request inserts into them, so SipHash's defence against
/// chosen keys buys nothing here, and FNV-1a ([`Fnv`]) hashes these short keys in a fraction of the time.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv>>;
/// A set of the content (see [`Map`]).
pub(crate) type Set<K> = std::collections::HashSet<K, BuildHasherDefault<Fnv>>;

/// 64-bit FNV-1a (Fowler, Noll, Vo): one xor and one multiply per byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A two-level map looked up by two `&str` keys without allocating (country → region, state → code, …).
#[derive(Debug)]
pub(crate) struct Nested<V>(Map<String, Map<String, V>>);

impl<V> Default for Nested<V> {
    fn default() -> Self {
        Nested(Map::default())
    }
}

impl<V> Nested<V> {
    pub(crate) fn get(&self, a: &str, b: &str) -> Option<&V> {
        self.0.get(a)?.get(b)
    }
    #[cfg(test)]
    pub(crate) fn contains(&self, a: &str, b: &str) -> bool {
        self.get(a, b).is_some()
    }
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.values().map(Map::len).sum()
    }
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values().flat_map(Map::values)
    }
    /// Every entry under `a`.
    pub(crate) fn get_all(&self, a: &str) -> Option<&Map<String, V>> {
        self.0.get(a)
    }
    fn insert(&mut self, a: &str, b: &str, v: V) {
        self.0.entry(a.to_owned()).or_default().insert(b.to_owned(), v);
    }
}

impl<V: Default> Nested<V> {
    fn entry(&mut self, a: &str, b: &str) -> &mut V {
        self.0.entry(a.to_owned()).or_default().entry(b.to_owned()).or_default()
    }
}

/// All tax content, indexed.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    /// country → region (or "") → rows.
    pub rates: Nested<Vec<RateRow>>,
    /// State code → SST content.
    pub sst: Map<String, SstState>,
    /// ZIP5 → (state, county FIPS) candidates, in file order.
    pub zip_county: ZipCounties,
    /// (state, county FIPS) → county name.
    pub county_names: Map<([u8; 2], u16), String>,
    pub places: Vec<Place>,
    /// ZIP5 → indices into `places`.
    pub place_by_zip: Map<u32, Vec<usize>>,
    /// state → normalised place name → indices into `places` (several when a city spans counties).
    pub place_by_name: Nested<Vec<usize>>,
    /// (state, normalised place name, county) → index into `places`: the identity of a place block.
    place_ids: Map<(String, String, String), usize>,
    /// States whose local rates come from `us-local` (so an unmatched place there is "not in our data").
    pub local_states: Set<String>,
    pub no_local_tax: Set<String>,
    /// state → local taxes levied at every address of the state (Utah's 1 % local and 0.25 % county option).
    pub statewide_local: Map<String, Vec<LocalComponent>>,
    /// SST states: state → normalised place name → (jurisdiction code, display name).
    pub sst_places: Nested<SstPlace>,
    /// SST states: (state, county FIPS) → special districts that cover the whole county (code, name), for
    /// addresses resolved through ZIP → county when the boundary file is not in our data.
    pub sst_county_districts: Map<([u8; 2], u16), Vec<CountyDistrict>>,
    /// (file, line, state, code) of each `district-counties.csv` row, checked against the rates files at the end.
    district_rows: Vec<(String, usize, String, String)>,
    /// SST states: state → jurisdiction code → place name.
    pub sst_place_names: Nested<String>,
    /// States held as county / city tables (`us-county-city/`): state → table.
    pub county_city: Map<String, super::county_city::CountyCity>,
    /// state → tax code → rules.
    pub taxability: Nested<Vec<TaxRule>>,
    /// Country → VAT-id templates (`#` digit, `@` letter, `*` either, other chars literal).
    pub vat_ids: Map<String, Vec<String>>,
    pub source_ids: Set<String>,
}

const RATE_HEADER: &[&str] = &[
    "country",
    "region",
    "jurisdiction",
    "level",
    "tax_type",
    "kind",
    "rate",
    "effective_from",
    "effective_to",
    "display_name",
    "source",
    "notes",
];
const TAX_TYPES: &[&str] = &["sales_tax", "vat", "gst", "hst", "pst", "qst", "rst", "jct"];

impl Tables {
    /// Parses and validates every file. Any malformed row → `DataError` naming `data/<file>:<line>`.
    ///
    /// The ZIP → county relation and the county names need no other file and are a quarter of the work, so a
    /// second thread reads them while this one reads the rest (cold start: a Lambda with two vCPUs uses both).
    pub(crate) fn load(files: &[(&'static str, &'static str)]) -> Result<Tables, DataError> {
        let (beside, rest): (Vec<_>, Vec<_>) = files.iter().copied().partition(|(p, _)| Self::BESIDE.contains(p));
        std::thread::scope(|scope| {
            let side = scope.spawn(move || {
                let mut b = Tables::default();
                for (file, text) in beside {
                    match file {
                        "us-sst/county-names.csv" => b.load_county_names(file, text)?,
                        _ => b.load_zip_county(file, text)?,
                    }
                }
                Ok::<_, DataError>(b)
            });
            let mut t = Self::load_rest(&rest)?;
            let b = side.join().map_err(|_| err("us-sst/zip-county.csv", 0, "the loading thread panicked"))??;
            (t.zip_county, t.county_names) = (b.zip_county, b.county_names);
            t.check_overlaps()?;
            t.check_local_rates()?;
            t.check_district_codes()?;
            super::county_city::check(&t)?;
            Ok(t)
        })
    }

    /// The files [`Tables::load`] reads on its second thread.
    const BESIDE: [&'static str; 3] =
        ["us-sst/zip-county.csv", "us-sst/zip-county-postal.csv", "us-sst/county-names.csv"];

    /// Every file but [`Tables::BESIDE`], `sources.csv` first.
    fn load_rest(files: &[(&'static str, &'static str)]) -> Result<Tables, DataError> {
        let mut t = Tables::default();
        let sources =
            files.iter().find(|(p, _)| *p == "sources.csv").ok_or_else(|| err("sources.csv", 0, "file missing"))?;
        t.load_sources(sources.0, sources.1)?;
        for (path, text) in files {
            let file = *path;
            if file == "sources.csv" {
                // read first, above
            } else if file.starts_with("rates/") {
                t.load_rates(file, text)?;
            } else if file.starts_with("us-sst/rates/") {
                t.load_sst_rates(file, text)?;
            } else if file.starts_with("us-sst/boundary/") {
                t.load_sst_boundary(file, text)?;
            } else if file == "us-sst/place-codes.csv" {
                t.load_place_codes(file, text)?;
            } else if file == "us-sst/district-counties.csv" {
                t.load_district_counties(file, text)?;
            } else if file == "us-local/statewide.csv" {
                t.load_statewide(file, text)?;
            } else if file == "us-local/no-local-tax.csv" {
                t.load_no_local(file, text)?;
            } else if file == "us-county-city/rules.csv" {
                super::county_city::load_rules(&mut t.county_city, &t.source_ids, file, text)?;
            } else if file.starts_with("us-county-city/") {
                super::county_city::load_table(&mut t.county_city, file, text)?;
            } else if file.starts_with("us-local/") {
                t.load_local(file, text)?;
            } else if file == "taxability/us.csv" {
                t.load_taxability(file, text)?;
            } else if file == "vat/id-formats.csv" {
                t.load_vat_ids(file, text)?;
            } else if file.starts_with("nexus/") || file.starts_with("fx/") {
                // Not tax content: registration thresholds and exchange rates, read by `crate::exposure`.
            } else {
                return Err(err(file, 0, "unknown data file (add a loader or move it under data/scripts)"));
            }
        }
        Ok(t)
    }

    fn load_sources(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
        check_header(file, &recs, &["source_id", "title", "url", "publisher", "licence", "retrieved", "notes"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let id = row.req(0, "source_id")?;
            row.req(1, "title")?;
            row.req(2, "url")?;
            row.req(4, "licence")?;
            if !self.source_ids.insert(id.to_owned()) {
                return Err(row.fail(format!("duplicate source_id {id:?}")));
            }
        }
        Ok(())
    }

    fn load_rates(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
        check_header(file, &recs, RATE_HEADER)?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let country = row.req(0, "country")?;
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(row.fail(format!("country {country:?} is not an upper-case ISO code")));
            }
            let region = row.get(1)?;
            let level = row.req(3, "level")?;
            if !["country", "state", "province"].contains(&level) {
                return Err(row.fail(format!("level {level:?} unknown")));
            }
            let tax_type = row.req(4, "tax_type")?;
            let Some(tax_type) = TAX_TYPES.iter().copied().find(|t| *t == tax_type) else {
                return Err(row.fail(format!("tax_type {tax_type:?} unknown")));
            };
            let kind = match row.req(5, "kind")? {
                "standard" => Kind::Standard,
                "reduced" => Kind::Reduced,
                "super_reduced" => Kind::SuperReduced,
                "parking" => Kind::Parking,
                k => return Err(row.fail(format!("kind {k:?} unknown"))),
            };
            let rate = row.percent(6, "rate")?;
            let from = row.date(7, "effective_from")?;
            let to = row.opt_date(8, "effective_to")?;
            check_range(&row, from, to)?;
            check_sources(&row, 10, &self.source_ids)?;
            let r = RateRow {
                country: country.to_owned(),
                region: (!region.is_empty()).then(|| region.to_owned()),
                jurisdiction: row.req(2, "jurisdiction")?.to_owned(),
                tax_type,
                kind,
                rate,
                from,
                to,
                display_name: row.req(9, "display_name")?.to_owned(),
            };
            self.rates.entry(&r.country.clone(), region).push(r);
        }
        Ok(())
    }

    fn load_taxability(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
        check_header(
            file,
            &recs,
            &[
                "state",
                "tax_code",
                "taxable",
                "taxable_percent",
                "rate_override",
                "effective_from",
                "effective_to",
                "source",
                "notes",
            ],
        )?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let code = row.req(1, "tax_code")?;
            if super::catalog::find(code).is_none() {
                return Err(row.fail(format!("tax_code {code:?} is not in the catalogue")));
            }
            let taxable = match row.req(2, "taxable")? {
                "yes" => true,
                "no" => false,
                v => return Err(row.fail(format!("taxable {v:?} must be yes or no"))),
            };
            let from = row.date(5, "effective_from")?;
            let to = row.opt_date(6, "effective_to")?;
            check_range(&row, from, to)?;
            check_sources(&row, 7, &self.source_ids)?;
            let rate_override = if row.get(4)?.is_empty() { None } else { Some(row.percent(4, "rate_override")?) };
            let rule =
                TaxRule { taxable, taxable_percent: row.percent(3, "taxable_percent")?, rate_override, from, to };
            let rules = self.taxability.entry(row.req(0, "state")?, code);
            if rules.iter().any(|r| overlaps((r.from, r.to), (from, to))) {
                return Err(row.fail("overlaps another rule of the same state and tax code"));
            }
            rules.push(rule);
        }
        Ok(())
    }

    fn load_vat_ids(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
        check_header(file, &recs, &["country", "templates", "source", "regex"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            check_sources(&row, 2, &self.source_ids)?;
            let templates = row.req(1, "templates")?.split('|').map(super::vat_id::normalise).collect();
            self.vat_ids.insert(row.req(0, "country")?.to_owned(), templates);
        }
        Ok(())
    }

    /// Two standard rows of one jurisdiction and tax type must not overlap in time.
    fn check_overlaps(&self) -> Result<(), DataError> {
        for rows in self.rates.values() {
            for (i, a) in rows.iter().enumerate() {
                for b in &rows[i + 1..] {
                    if a.kind == Kind::Standard
                        && b.kind == Kind::Standard
                        && a.tax_type == b.tax_type
                        && overlaps((a.from, a.to), (b.from, b.to))
                    {
                        return Err(err(
                            "rates/",
                            0,
                            format!("{} {:?}: standard rows {} and {} overlap", a.country, a.region, a.from, b.from),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
