//! Loads the tax content embedded from `data/` (see `shared/build.rs`) into lookup tables, validating every row.
//!
//! Why parse at start-up instead of generating Rust tables in `build.rs`: the CSVs are the reviewable source of
//! truth, parsing all of them takes a few milliseconds (budget: 30 ms at cold start), and one parser serves both the
//! engine and the tests that prove a malformed row fails loudly with `data/<file>:<line>`.
//!
//! Files (all CSV with a header unless noted):
//! - `sources.csv`: provenance; every other row's `source` ids (`;`-separated) must exist here.
//! - `rates/*.csv`: country / state / province rates with effective dates.
//! - `us-sst/rates/<ST>R*.csv`, `us-sst/boundary/<ST>B*.csv` (headerless, SST format), `us-sst/zip-county.csv`,
//!   `us-sst/county-names.csv`: US local rates of Streamlined Sales Tax states; a new state is a file drop.
//! - `us-local/<st>.csv`: city/county/district rates from revenue departments' tables; `us-local/no-local-tax.csv`.
//! - `us-county-city/<st>.csv` + `rules.csv`: county / city rates keyed by county FIPS (see `county_city`).
//! - `taxability/us.csv`: per-state taxability of our tax codes. `vat/id-formats.csv`: VAT-id templates.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::csv::{Record, records};
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

/// One dated rate of an SST jurisdiction.
#[derive(Debug, Clone)]
pub(crate) struct SstRate {
    pub jtype: String,
    /// Percent.
    pub rate: Decimal,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// One ZIP5 or ZIP+4 range of an SST boundary file.
#[derive(Debug, Clone)]
pub(crate) struct Boundary {
    pub zip4: bool,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// ZIP as `zip5 * 10_000 + zip4` (zip4 = 0 / 9999 for ZIP5 ranges).
    pub lo: u64,
    pub hi: u64,
    pub county: Option<String>,
    pub local: Option<String>,
    /// (jurisdiction code, jurisdiction type) of stacked special districts (type 45 dropped).
    pub districts: Vec<(String, String)>,
}

/// The SST content of one member state.
#[derive(Debug, Clone, Default)]
pub(crate) struct SstState {
    /// Provenance: the rate (and boundary) file names.
    pub files: Vec<String>,
    /// Jurisdiction code → its dated rates (all types except 45, the state row).
    pub rates: HashMap<String, Vec<SstRate>>,
    pub boundaries: Vec<Boundary>,
    /// ZIP5 → indices into `boundaries` of the records whose range touches it (full state files hold ~40k
    /// records; a lookup must not scan them all). Ranges wider than `WIDE_RANGE` ZIP5s go to `wide`.
    pub by_zip5: HashMap<u32, Vec<usize>>,
    pub wide: Vec<usize>,
}

const WIDE_RANGE: u64 = 2_000;

impl SstState {
    /// Indices of the boundary records that may contain `zip5`.
    pub(crate) fn candidates(&self, zip5: u32) -> impl Iterator<Item = &Boundary> {
        self.by_zip5.get(&zip5).into_iter().flatten().chain(self.wide.iter()).filter_map(|i| self.boundaries.get(*i))
    }

    fn index(&mut self, i: usize) {
        let Some(b) = self.boundaries.get(i) else { return };
        let (lo, hi) = (b.lo / 10_000, b.hi / 10_000);
        if hi - lo > WIDE_RANGE {
            self.wide.push(i);
            return;
        }
        for z in lo..=hi {
            if let Ok(z) = u32::try_from(z) {
                self.by_zip5.entry(z).or_default().push(i);
            }
        }
    }
}

/// One local component (county / city / district) of a place in `us-local/*.csv`.
#[derive(Debug, Clone)]
pub(crate) struct LocalComponent {
    pub jurisdiction: String,
    /// Where the row is (`us-local/<st>.csv`, line), for load-time consistency errors.
    pub file: String,
    pub line: usize,
    pub rate: Decimal,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// A place: one block of a city's rate table, identified by its jurisdictions (state, county, place), not by
/// its name alone. A city spread over several counties (Kansas City, MO: Jackson, Clay, Platte) is one place per
/// county, each with its own county + city stack; merging them by name once taxed every address with all of them.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub state: String,
    pub name: String,
    /// The county block this place's rows belong to (empty where the table has none, e.g. Virginia districts).
    pub county: String,
    pub components: Vec<LocalComponent>,
    /// How many ZIP5s the table lists for this block (the documented tie-break among same-name places).
    pub zip_count: usize,
}

impl Place {
    /// "Kansas City (Clay County)" where the block has a county, for warnings that list candidates.
    pub(crate) fn label(&self) -> String {
        if self.county.is_empty() { self.name.clone() } else { format!("{} ({})", self.name, self.county) }
    }
}

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

/// A city of `us-sst/place-codes.csv`: its SST jurisdiction code, name, and the counties it lies in (a city tax
/// chosen by name applies only where the ZIP's counties are the city's: a postal "Atlanta" in Cobb County is not
/// in Atlanta).
#[derive(Debug, Clone)]
pub(crate) struct SstPlace {
    pub code: String,
    pub name: String,
    pub counties: Vec<u16>,
}

/// A county-wide SST special district: (jurisdiction code, display name).
/// A county-wide SST district: (code, name, the SST place code inside which it is not levied, if any).
pub(crate) type CountyDistrict = (String, String, Option<String>);

/// ZIP5 → the (state, county FIPS) pairs of its rows, in file order: one array and a sorted index instead of a
/// hash map of small vectors (47k rows load without an allocation per ZIP).
#[derive(Debug, Default)]
pub(crate) struct ZipCounties {
    entries: Vec<([u8; 2], u16)>,
    /// (ZIP5, first entry, number of entries), sorted by ZIP.
    index: Vec<(u32, u32, u32)>,
}

impl ZipCounties {
    pub(crate) fn get(&self, zip: &u32) -> Option<&[([u8; 2], u16)]> {
        let i = self.index.binary_search_by_key(zip, |e| e.0).ok()?;
        let (_, start, len) = self.index[i];
        self.entries.get(start as usize..(start + len) as usize)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Appends a row; the rows of one ZIP must be consecutive (checked by [`ZipCounties::finish`]).
    fn push(&mut self, zip: u32, pair: ([u8; 2], u16)) -> Result<(), &'static str> {
        let start = u32::try_from(self.entries.len()).map_err(|_| "too many rows")?;
        self.entries.push(pair);
        match self.index.last_mut() {
            Some(last) if last.0 == zip => last.2 += 1,
            _ => self.index.push((zip, start, 1)),
        }
        Ok(())
    }

    /// Sorts the index; a ZIP whose rows were not consecutive is an error (it would answer with half its rows).
    fn finish(&mut self) -> Result<(), u32> {
        self.index.sort_unstable_by_key(|e| e.0);
        match self.index.windows(2).find(|w| w[0].0 == w[1].0) {
            Some(w) => Err(w[0].0),
            None => Ok(()),
        }
    }
}

/// A two-level map looked up by two `&str` keys without allocating (country → region, state → code, …).
#[derive(Debug)]
pub(crate) struct Nested<V>(HashMap<String, HashMap<String, V>>);

impl<V> Default for Nested<V> {
    fn default() -> Self {
        Nested(HashMap::new())
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
        self.0.values().map(HashMap::len).sum()
    }
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values().flat_map(HashMap::values)
    }
    /// Every entry under `a`.
    pub(crate) fn get_all(&self, a: &str) -> Option<&HashMap<String, V>> {
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
    pub sst: HashMap<String, SstState>,
    /// ZIP5 → (state, county FIPS) candidates, in file order.
    pub zip_county: ZipCounties,
    /// (state, county FIPS) → county name.
    pub county_names: HashMap<([u8; 2], u16), String>,
    pub places: Vec<Place>,
    /// ZIP5 → indices into `places`.
    pub place_by_zip: HashMap<u32, Vec<usize>>,
    /// state → normalised place name → indices into `places` (several when a city spans counties).
    pub place_by_name: Nested<Vec<usize>>,
    /// (state, normalised place name, county) → index into `places`: the identity of a place block.
    place_ids: HashMap<(String, String, String), usize>,
    /// States whose local rates come from `us-local` (so an unmatched place there is "not in our data").
    pub local_states: HashSet<String>,
    pub no_local_tax: HashSet<String>,
    /// state → local taxes levied at every address of the state (Utah's 1 % local and 0.25 % county option).
    pub statewide_local: HashMap<String, Vec<LocalComponent>>,
    /// SST states: state → normalised place name → (jurisdiction code, display name).
    pub sst_places: Nested<SstPlace>,
    /// SST states: (state, county FIPS) → special districts that cover the whole county (code, name), for
    /// addresses resolved through ZIP → county when the boundary file is not in our data.
    pub sst_county_districts: HashMap<([u8; 2], u16), Vec<CountyDistrict>>,
    /// (file, line, state, code) of each `district-counties.csv` row, checked against the rates files at the end.
    district_rows: Vec<(String, usize, String, String)>,
    /// SST states: (state, jurisdiction code) → place name.
    pub sst_place_names: HashMap<(String, String), String>,
    /// States held as county / city tables (`us-county-city/`): state → table.
    pub county_city: HashMap<String, super::county_city::CountyCity>,
    /// state → tax code → rules.
    pub taxability: Nested<Vec<TaxRule>>,
    /// Country → VAT-id templates (`#` digit, `@` letter, `*` either, other chars literal).
    pub vat_ids: HashMap<String, Vec<String>>,
    pub source_ids: HashSet<String>,
}

pub(crate) fn err(file: &str, line: usize, message: impl Into<String>) -> DataError {
    DataError { file: file.to_owned(), line, message: message.into() }
}

/// Field access with file:line errors.
pub(super) struct Row<'r> {
    pub(super) file: &'r str,
    pub(super) rec: &'r Record,
}

impl Row<'_> {
    pub(super) fn get(&self, i: usize) -> Result<&str, DataError> {
        self.rec
            .fields
            .get(i)
            .map(|s| s.trim())
            .ok_or_else(|| err(self.file, self.rec.line, format!("missing column {}", i + 1)))
    }
    pub(super) fn req(&self, i: usize, what: &str) -> Result<&str, DataError> {
        let v = self.get(i)?;
        if v.is_empty() { Err(err(self.file, self.rec.line, format!("{what} is empty"))) } else { Ok(v) }
    }
    pub(super) fn date(&self, i: usize, what: &str) -> Result<NaiveDate, DataError> {
        let v = self.req(i, what)?;
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| err(self.file, self.rec.line, format!("{what} {v:?} is not a YYYY-MM-DD date")))
    }
    pub(super) fn opt_date(&self, i: usize, what: &str) -> Result<Option<NaiveDate>, DataError> {
        if self.get(i)?.is_empty() { Ok(None) } else { self.date(i, what).map(Some) }
    }
    pub(super) fn percent(&self, i: usize, what: &str) -> Result<Decimal, DataError> {
        let v = self.req(i, what)?;
        let d: Decimal =
            v.parse().map_err(|_| err(self.file, self.rec.line, format!("{what} {v:?} is not a decimal number")))?;
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            return Err(err(self.file, self.rec.line, format!("{what} {v} is outside 0..=100")));
        }
        Ok(d.normalize())
    }
    pub(super) fn fail(&self, message: impl Into<String>) -> DataError {
        err(self.file, self.rec.line, message)
    }
}

pub(super) fn check_header(file: &str, recs: &[Record], expected: &[&str]) -> Result<(), DataError> {
    let Some(first) = recs.first() else { return Err(err(file, 1, "empty file")) };
    let got: Vec<&str> = first.fields.iter().map(|f| f.trim()).collect();
    if got != expected {
        return Err(err(file, first.line, format!("header {got:?}, expected {expected:?}")));
    }
    for r in &recs[1..] {
        if r.fields.len() != expected.len() {
            return Err(err(file, r.line, format!("{} columns, expected {}", r.fields.len(), expected.len())));
        }
    }
    Ok(())
}

pub(super) fn check_range(row: &Row<'_>, from: NaiveDate, to: Option<NaiveDate>) -> Result<(), DataError> {
    match to {
        Some(t) if t < from => Err(row.fail(format!("effective_to {t} is before effective_from {from}"))),
        _ => Ok(()),
    }
}

pub(super) fn check_sources(row: &Row<'_>, i: usize, known: &HashSet<String>) -> Result<(), DataError> {
    let v = row.req(i, "source")?;
    for id in v.split(';') {
        if !known.contains(id.trim()) {
            return Err(row.fail(format!("source {id:?} is not in sources.csv")));
        }
    }
    Ok(())
}

/// Whether a dated row applies on `date`.
pub(crate) fn in_force(from: NaiveDate, to: Option<NaiveDate>, date: NaiveDate) -> bool {
    from <= date && to.is_none_or(|t| date <= t)
}

pub(super) fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    let a_end = a.1.unwrap_or(NaiveDate::MAX);
    let b_end = b.1.unwrap_or(NaiveDate::MAX);
    a.0 <= b_end && b.0 <= a_end
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
    pub(crate) fn load(files: &[(&str, &str)]) -> Result<Tables, DataError> {
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
            } else if file == "us-sst/zip-county.csv" {
                t.load_zip_county(file, text)?;
            } else if file == "us-sst/place-codes.csv" {
                t.load_place_codes(file, text)?;
            } else if file == "us-sst/district-counties.csv" {
                t.load_district_counties(file, text)?;
            } else if file == "us-sst/county-names.csv" {
                t.load_county_names(file, text)?;
            } else if file == "us-local/statewide.csv" {
                t.load_statewide(file, text)?;
            } else if file == "us-local/no-local-tax.csv" {
                t.load_no_local(file, text)?;
            } else if file == "us-county-city/rules.csv" {
                super::county_city::load_rules(&mut t.county_city, &t.source_ids, file, text)?;
            } else if file.starts_with("us-county-city/") {
                super::county_city::load_table(&mut t.county_city, &t.source_ids, file, text)?;
            } else if file.starts_with("us-local/") {
                t.load_local(file, text)?;
            } else if file == "taxability/us.csv" {
                t.load_taxability(file, text)?;
            } else if file == "vat/id-formats.csv" {
                t.load_vat_ids(file, text)?;
            } else {
                return Err(err(file, 0, "unknown data file (add a loader or move it under data/scripts)"));
            }
        }
        t.check_overlaps()?;
        t.check_local_rates()?;
        t.check_district_codes()?;
        super::county_city::check(&t)?;
        Ok(t)
    }

    fn load_sources(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
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
        let recs = records(file, text)?;
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

    /// `<ST>R<yyyy>Q<q>…csv`: headerless, 9 columns, rates as fractions, dates YYYYMMDD.
    fn load_sst_rates(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let state = sst_state_of(file, 'R')?;
        let recs = records(file, text)?;
        let st = self.sst.entry(state).or_default();
        st.files.push(file.rsplit('/').next().unwrap_or(file).to_owned());
        for rec in &recs {
            let row = Row { file, rec };
            if rec.fields.len() != 9 {
                return Err(row.fail(format!("{} columns, expected 9", rec.fields.len())));
            }
            let jtype = row.req(1, "jurisdiction type")?;
            let code = row.req(2, "jurisdiction code")?;
            let general = row.req(3, "general rate")?;
            let frac: Decimal = general.parse().map_err(|_| row.fail(format!("rate {general:?} is not a number")))?;
            if frac < Decimal::ZERO || frac >= Decimal::ONE {
                return Err(row.fail(format!("rate {general} is not a fraction in 0..1")));
            }
            for (i, what) in [(4, "food rate"), (5, "drug rate"), (6, "residential utility rate")] {
                row.req(i, what)?;
            }
            let from = sst_date(&row, 7, "effective from")?.ok_or_else(|| row.fail("effective from is open"))?;
            let to = sst_date(&row, 8, "effective to")?;
            check_range(&row, from, to)?;
            if jtype == "45" {
                continue; // the state row; state rates come from rates/us-states.csv
            }
            st.rates.entry(code.to_owned()).or_default().push(SstRate {
                jtype: jtype.to_owned(),
                rate: (frac * Decimal::ONE_HUNDRED).normalize(),
                from,
                to,
            });
        }
        Ok(())
    }

    /// `<ST>B…csv`: headerless, ≥ 89 columns; record types Z (ZIP5 range) and 4 (ZIP+4 range).
    fn load_sst_boundary(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let state = sst_state_of(file, 'B')?;
        let recs = records(file, text)?;
        let st = self.sst.entry(state).or_default();
        st.files.push(file.rsplit('/').next().unwrap_or(file).to_owned());
        for rec in &recs {
            let row = Row { file, rec };
            if rec.fields.len() < 89 {
                return Err(row.fail(format!("{} columns, expected at least 89", rec.fields.len())));
            }
            let kind = row.req(0, "record type")?.to_ascii_uppercase();
            let zip4 = match kind.as_str() {
                "Z" => false,
                "4" => true,
                "A" => continue, // single-address records (Vermont) need street matching: not supported
                k => return Err(row.fail(format!("record type {k:?} unknown"))),
            };
            let from = sst_date(&row, 1, "effective from")?.ok_or_else(|| row.fail("effective from is open"))?;
            let to = sst_date(&row, 2, "effective to")?;
            check_range(&row, from, to)?;
            let z5 = |i: usize, what: &str| -> Result<u64, DataError> {
                let v = row.req(i, what)?;
                if v.len() != 5 || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(row.fail(format!("{what} {v:?} is not a ZIP5")));
                }
                v.parse::<u64>().map_err(|_| row.fail(format!("{what} {v:?}")))
            };
            let z4 = |i: usize, what: &str, default: u64| -> Result<u64, DataError> {
                let v = row.get(i)?;
                if v.is_empty() {
                    return if zip4 { Err(row.fail(format!("{what} is empty"))) } else { Ok(default) };
                }
                // ZIP+4 values may be unpadded ("1" = "0001").
                match v.parse::<u64>() {
                    Ok(n) if v.len() <= 4 && n <= 9999 => Ok(n),
                    _ => Err(row.fail(format!("{what} {v:?} is not a ZIP+4 suffix"))),
                }
            };
            let lo = z5(17, "ZIP5 low")? * 10_000 + z4(18, "ZIP+4 low", 0)?;
            let hi = z5(19, "ZIP5 high")? * 10_000 + z4(20, "ZIP+4 high", 9999)?;
            if hi < lo {
                return Err(row.fail("ZIP range high is below low"));
            }
            let opt = |i: usize| -> Result<Option<String>, DataError> {
                let v = row.get(i)?;
                Ok((!v.is_empty()).then(|| v.to_owned()))
            };
            let mut districts = Vec::new();
            let mut i = 29;
            while i + 2 < rec.fields.len() {
                let code = row.get(i + 1)?;
                let jtype = row.get(i + 2)?;
                if !code.is_empty() && jtype != "45" {
                    districts.push((code.to_owned(), jtype.to_owned()));
                }
                i += 3;
            }
            st.boundaries.push(Boundary { zip4, from, to, lo, hi, county: opt(24)?, local: opt(25)?, districts });
            st.index(st.boundaries.len() - 1);
        }
        Ok(())
    }

    /// The largest file (≈ 47k rows): parsed without building per-row field vectors (cold-start budget).
    fn load_zip_county(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split('\n').enumerate();
        match lines.next() {
            Some((_, h)) if h.trim_end_matches('\r') == "zip5,state,county_fips" => {}
            _ => return Err(err(file, 1, "header must be zip5,state,county_fips")),
        }
        self.zip_county.entries.reserve(48_000);
        self.zip_county.index.reserve(34_000);
        for (idx, raw) in lines {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() {
                continue;
            }
            let n = idx + 1;
            let mut f = line.split(',');
            let (Some(zip), Some(state), Some(county), None) = (f.next(), f.next(), f.next(), f.next()) else {
                return Err(err(file, n, "expected 3 columns"));
            };
            let zip = parse_zip5(zip).ok_or_else(|| err(file, n, "zip5 is not 5 digits"))?;
            let state = state_code(state).ok_or_else(|| err(file, n, "state is not a 2-letter code"))?;
            let county = parse_fips3(county).ok_or_else(|| err(file, n, "county_fips not 3 digits"))?;
            self.zip_county.push(zip, (state, county)).map_err(|m| err(file, n, m))?;
        }
        self.zip_county.finish().map_err(|z| err(file, 0, format!("the rows of ZIP {z:05} are not consecutive")))
    }

    /// `us-sst/district-counties.csv`: which SST special districts cover a whole county (see the file's notes for
    /// the evidence of each code). Every code must exist in the state's rates file (checked after all files load).
    fn load_district_counties(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
        check_header(
            file,
            &recs,
            &["state", "jurisdiction_code", "county_fips", "except_place", "name", "source", "notes"],
        )?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            check_sources(&row, 5, &self.source_ids)?;
            let st = row.req(0, "state")?;
            let state = state_code(st).ok_or_else(|| row.fail("state is not a 2-letter code"))?;
            let code = row.req(1, "jurisdiction_code")?.to_owned();
            let county = parse_fips3(row.req(2, "county_fips")?).ok_or_else(|| row.fail("county_fips not 3 digits"))?;
            let v = self.sst_county_districts.entry((state, county)).or_default();
            if v.iter().any(|(c, _, _)| *c == code) {
                return Err(row.fail(format!("district {code} listed twice for county {county:03}")));
            }
            let except = Some(row.get(3)?.to_owned()).filter(|e| !e.is_empty());
            v.push((code.clone(), row.req(4, "name")?.to_owned(), except));
            self.district_rows.push((file.to_owned(), rec.line, st.to_owned(), code));
        }
        Ok(())
    }

    fn check_district_codes(&self) -> Result<(), DataError> {
        for (file, line, state, code) in &self.district_rows {
            let known = self
                .sst
                .get(state)
                .is_some_and(|s| s.rates.get(code).is_some_and(|r| r.iter().all(|x| x.jtype == "63")));
            if !known {
                return Err(err(
                    file,
                    *line,
                    format!("{state} district {code} is not a type-63 row of the state's SST rates file"),
                ));
            }
        }
        Ok(())
    }

    fn load_county_names(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
        check_header(file, &recs, &["state", "county_fips", "name"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let state = state_code(row.req(0, "state")?).ok_or_else(|| row.fail("state is not a 2-letter code"))?;
            let county = parse_fips3(row.req(1, "county_fips")?).ok_or_else(|| row.fail("county_fips not 3 digits"))?;
            self.county_names.insert((state, county), row.req(2, "name")?.to_owned());
        }
        Ok(())
    }

    fn load_place_codes(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
        check_header(file, &recs, &["state", "place", "jurisdiction_code", "counties", "source", "notes"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            check_sources(&row, 4, &self.source_ids)?;
            let counties = row
                .req(3, "counties")?
                .split_whitespace()
                .map(|c| parse_fips3(c).ok_or_else(|| row.fail(format!("county {c:?} is not 3 digits"))))
                .collect::<Result<Vec<u16>, _>>()?;
            let state = row.req(0, "state")?.to_owned();
            let place = row.req(1, "place")?.to_owned();
            let code = row.req(2, "jurisdiction_code")?.to_owned();
            if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(row.fail(format!("jurisdiction_code {code:?} is not 5 digits")));
            }
            self.sst_place_names.insert((state.clone(), code.clone()), place.clone());
            self.sst_places.insert(
                &state,
                &super::address::norm_name(&place),
                SstPlace { code, name: place, counties },
            );
        }
        Ok(())
    }

    /// `us-local/statewide.csv`: local taxes every address of a state pays (data, not code: a rate chart row).
    fn load_statewide(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
        check_header(
            file,
            &recs,
            &["state", "level", "jurisdiction", "rate", "effective_from", "effective_to", "source", "notes"],
        )?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let state = row.req(0, "state")?;
            if state_code(state).is_none() {
                return Err(row.fail("state is not a 2-letter code"));
            }
            let level = row.req(1, "level")?;
            if !["county", "city", "district"].contains(&level) {
                return Err(row.fail(format!("level {level:?} unknown")));
            }
            let from = row.date(4, "effective_from")?;
            let to = row.opt_date(5, "effective_to")?;
            check_range(&row, from, to)?;
            check_sources(&row, 6, &self.source_ids)?;
            let comp = LocalComponent {
                jurisdiction: row.req(2, "jurisdiction")?.to_owned(),
                file: file.to_owned(),
                line: rec.line,
                rate: row.percent(3, "rate")?,
                from,
                to,
            };
            let v = self.statewide_local.entry(state.to_owned()).or_default();
            if v.iter().any(|c| c.jurisdiction == comp.jurisdiction && overlaps((c.from, c.to), (comp.from, comp.to))) {
                return Err(row.fail(format!("{} overlaps another row of the same jurisdiction", comp.jurisdiction)));
            }
            v.push(comp);
        }
        Ok(())
    }

    fn load_no_local(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
        check_header(file, &recs, &["state", "source", "notes"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            check_sources(&row, 1, &self.source_ids)?;
            self.no_local_tax.insert(row.req(0, "state")?.to_owned());
        }
        Ok(())
    }

    fn load_local(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
        check_header(
            file,
            &recs,
            &[
                "state",
                "place",
                "county",
                "level",
                "jurisdiction",
                "rate",
                "effective_from",
                "effective_to",
                "source",
                "zips",
            ],
        )?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let state = row.req(0, "state")?.to_owned();
            let name = row.req(1, "place")?.to_owned();
            let level = row.req(3, "level")?;
            if !["county", "city", "district"].contains(&level) {
                return Err(row.fail(format!("level {level:?} unknown")));
            }
            let from = row.date(6, "effective_from")?;
            let to = row.opt_date(7, "effective_to")?;
            check_range(&row, from, to)?;
            check_sources(&row, 8, &self.source_ids)?;
            let comp = LocalComponent {
                jurisdiction: row.req(4, "jurisdiction")?.to_owned(),
                file: file.to_owned(),
                line: rec.line,
                rate: row.percent(5, "rate")?,
                from,
                to,
            };
            let county = row.get(2)?.to_owned();
            let key = super::address::norm_name(&name);
            let id = (state.clone(), key.clone(), county.clone());
            let idx = match self.place_ids.get(&id) {
                Some(&i) => i,
                None => {
                    self.places.push(Place {
                        state: state.clone(),
                        name,
                        county,
                        components: Vec::new(),
                        zip_count: 0,
                    });
                    let i = self.places.len() - 1;
                    self.place_ids.insert(id, i);
                    self.place_by_name.entry(&state, &key).push(i);
                    i
                }
            };
            for z in row.get(9)?.split_whitespace() {
                let zip = parse_zip5(z).ok_or_else(|| row.fail(format!("zip {z:?} is not 5 digits")))?;
                let v = self.place_by_zip.entry(zip).or_default();
                if !v.contains(&idx) {
                    v.push(idx);
                    self.places[idx].zip_count += 1;
                }
            }
            let place = &self.places[idx];
            if let Some(dup) = place
                .components
                .iter()
                .find(|c| c.jurisdiction == comp.jurisdiction && overlaps((c.from, c.to), (comp.from, comp.to)))
            {
                return Err(row.fail(format!(
                    "{} already has {} ({} % from {}) in force on overlapping dates: a jurisdiction may apply once per place and date",
                    place.label(),
                    comp.jurisdiction,
                    dup.rate,
                    dup.from
                )));
            }
            self.places[idx].components.push(comp);
            self.local_states.insert(state);
        }
        Ok(())
    }

    fn load_taxability(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let recs = records(file, text)?;
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
        let recs = records(file, text)?;
        check_header(file, &recs, &["country", "templates", "source", "regex"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            check_sources(&row, 2, &self.source_ids)?;
            let templates = row.req(1, "templates")?.split('|').map(super::vat_id::normalise).collect();
            self.vat_ids.insert(row.req(0, "country")?.to_owned(), templates);
        }
        Ok(())
    }

    /// A local jurisdiction has one rate at a time across every place it appears in (Jackson County is 1.5 %
    /// for Kansas City and for Independence alike): two places disagreeing means one row is wrong.
    fn check_local_rates(&self) -> Result<(), DataError> {
        let mut seen: HashMap<(&str, &str), Vec<&LocalComponent>> = HashMap::new();
        for p in &self.places {
            for c in &p.components {
                let others = seen.entry((p.state.as_str(), c.jurisdiction.as_str())).or_default();
                if let Some(o) = others.iter().find(|o| o.rate != c.rate && overlaps((o.from, o.to), (c.from, c.to))) {
                    return Err(err(
                        &c.file,
                        c.line,
                        format!(
                            "{} {} is {} % here but {} % at {}:{} on overlapping dates",
                            p.state, c.jurisdiction, c.rate, o.rate, o.file, o.line
                        ),
                    ));
                }
                others.push(c);
            }
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

fn sst_state_of(file: &str, kind: char) -> Result<String, DataError> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let b = name.as_bytes();
    if b.len() > 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase() && b[2] == kind as u8 {
        Ok(name[..2].to_owned())
    } else {
        Err(err(file, 0, format!("SST file name must start with <ST>{kind} (e.g. MN{kind}2026Q2FEB18.csv)")))
    }
}

/// SST dates are YYYYMMDD; 29991231 and 99991231 mean open-ended.
fn sst_date(row: &Row<'_>, i: usize, what: &str) -> Result<Option<NaiveDate>, DataError> {
    let v = row.req(i, what)?;
    if v == "29991231" || v == "99991231" {
        return Ok(None);
    }
    NaiveDate::parse_from_str(v, "%Y%m%d").map(Some).map_err(|_| row.fail(format!("{what} {v:?} is not YYYYMMDD")))
}

pub(crate) fn parse_zip5(s: &str) -> Option<u32> {
    if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

pub(super) fn parse_fips3(s: &str) -> Option<u16> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

pub(crate) fn state_code(s: &str) -> Option<[u8; 2]> {
    let b = s.as_bytes();
    (b.len() == 2 && b.iter().all(u8::is_ascii_uppercase)).then(|| [b[0], b[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources() -> (&'static str, &'static str) {
        ("sources.csv", "source_id,title,url,publisher,licence,retrieved,notes\ns1,T,http://x,P,L,2026-01-01,\n")
    }

    fn load_with(extra: (&'static str, &'static str)) -> Result<Tables, DataError> {
        Tables::load(&[sources(), extra])
    }

    const H: &str =
        "country,region,jurisdiction,level,tax_type,kind,rate,effective_from,effective_to,display_name,source,notes\n";

    #[test]
    fn embedded_content_loads() {
        let t = Tables::load(embedded_files()).unwrap();
        assert!(t.rates.len() > 100);
        assert!(t.sst.contains_key("MN") && t.sst.contains_key("WI") && t.sst.contains_key("GA"));
        assert!(t.zip_county.len() > 30_000);
    }

    #[test]
    fn malformed_rate_fails_with_file_and_line() {
        let text: &'static str = Box::leak(format!("{H}US,MN,Minnesota,state,sales_tax,standard,6.875,2009-07-01,,Sales Tax,s1,\nUS,WI,Wisconsin,state,sales_tax,standard,abc,2020-01-01,,Sales Tax,s1,\n").into_boxed_str());
        let e = load_with(("rates/x.csv", text)).unwrap_err();
        assert_eq!(e.file, "rates/x.csv");
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("data/rates/x.csv:3:"), "{e}");
    }

    #[test]
    fn unknown_source_bad_dates_and_overlaps_fail() {
        let cases = [
            "US,MN,M,state,sales_tax,standard,6,2020-01-01,,S,nope,\n",
            "US,MN,M,state,sales_tax,standard,6,2020-13-01,,S,s1,\n",
            "US,MN,M,state,sales_tax,standard,6,2020-01-01,2019-01-01,S,s1,\n",
            "US,MN,M,state,sales_tax,standard,101,2020-01-01,,S,s1,\n",
            "US,MN,M,state,sales_tax,standard,,2020-01-01,,S,s1,\n",
            "US,MN,M,state,sales_tax,standard,6,2020-01-01,,S,s1,\nUS,MN,M,state,sales_tax,standard,7,2021-01-01,,S,s1,\n",
        ];
        for c in cases {
            let text: &'static str = Box::leak(format!("{H}{c}").into_boxed_str());
            assert!(load_with(("rates/x.csv", text)).is_err(), "{c}");
        }
    }

    const LH: &str = "state,place,county,level,jurisdiction,rate,effective_from,effective_to,source,zips\n";

    fn local(rows: &str) -> Result<Tables, DataError> {
        let text: &'static str = Box::leak(format!("{LH}{rows}").into_boxed_str());
        load_with(("us-local/mo.csv", text))
    }

    #[test]
    fn local_places_are_county_blocks_and_consistent() {
        // One city over two counties: two places, one county + one city each.
        let t = local(
            "MO,Kansas City,Jackson County,county,Jackson County,1.5,2026-01-01,,s1,64106\n\
             MO,Kansas City,Jackson County,city,Kansas City,3.25,2026-01-01,,s1,\n\
             MO,Kansas City,Clay County,county,Clay County,1.25,2026-01-01,,s1,64118\n\
             MO,Kansas City,Clay County,city,Kansas City,3.25,2026-01-01,,s1,\n",
        )
        .unwrap();
        assert_eq!(t.places.len(), 2);
        assert!(t.places.iter().all(|p| p.components.len() == 2));
        assert_eq!(t.place_by_name.get("MO", &crate::tax::address::norm_name("Kansas City")).map(Vec::len), Some(2));
        // A jurisdiction twice in one place on overlapping dates (two rates for one place) fails the load.
        let e = local(
            "MO,Kansas City,Jackson County,city,Kansas City,3.25,2026-01-01,,s1,64106\n\
             MO,Kansas City,Jackson County,city,Kansas City,3.5,2026-06-01,,s1,\n",
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("us-local/mo.csv", 3), "{e}");
        // Dated rows that follow each other are fine.
        local(
            "MO,Kansas City,Jackson County,city,Kansas City,3.25,2026-01-01,2026-05-31,s1,64106\n\
             MO,Kansas City,Jackson County,city,Kansas City,3.5,2026-06-01,,s1,\n",
        )
        .unwrap();
        // One jurisdiction with two rates in two places on the same dates fails the load.
        let e = local(
            "MO,Kansas City,Jackson County,county,Jackson County,1.5,2026-01-01,,s1,64106\n\
             MO,Independence,Jackson County,county,Jackson County,1.25,2026-01-01,,s1,64050\n",
        )
        .unwrap_err();
        assert!(e.message.contains("Jackson County"), "{e}");
    }

    #[test]
    fn district_counties_must_name_a_district_of_the_rates_file() {
        let rates = ("us-sst/rates/MNR2026Q2FEB18.csv", "27,63,80004,0.005,0.005,0.005,0.005,20171001,29991231\n");
        let h = "state,jurisdiction_code,county_fips,except_place,name,source,notes\n";
        let ok: &'static str = Box::leak(format!("{h}MN,80004,053,,Hennepin transit,s1,\n").into_boxed_str());
        let t = Tables::load(&[sources(), rates, ("us-sst/district-counties.csv", ok)]).unwrap();
        assert_eq!(t.sst_county_districts.get(&(*b"MN", 53)).map(Vec::len), Some(1));
        let bad: &'static str = Box::leak(format!("{h}MN,80099,053,,Unknown,s1,\n").into_boxed_str());
        let e = Tables::load(&[sources(), rates, ("us-sst/district-counties.csv", bad)]).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("us-sst/district-counties.csv", 2), "{e}");
    }

    #[test]
    fn sst_blank_rate_is_rejected_not_zero() {
        let e = load_with(("us-sst/rates/MNR2026Q2FEB18.csv", "27,01,43000,,0.005,0.005,0.005,20051001,29991231\n"))
            .unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("general rate"), "{e}");
    }

    #[test]
    fn zip_county_rows_are_validated() {
        let e =
            load_with(("us-sst/zip-county.csv", "zip5,state,county_fips\n55401,MN,053\n5540,MN,053\n")).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("us-sst/zip-county.csv", 3));
        // A ZIP's rows must be consecutive: split, a lookup would answer with half of them.
        let text = "zip5,state,county_fips\n55401,MN,053\n55402,MN,053\n55401,MN,123\n";
        let e = load_with(("us-sst/zip-county.csv", text)).unwrap_err();
        assert!(e.message.contains("55401"), "{e}");
        // Any order of ZIPs, consecutive rows: every ZIP answers with all its counties, in file order.
        let text = "zip5,state,county_fips\n74014,OK,145\n74014,OK,143\n37203,TN,037\n";
        let t = load_with(("us-sst/zip-county.csv", text)).unwrap();
        assert_eq!(t.zip_county.get(&74014), Some(&[(*b"OK", 145), (*b"OK", 143)][..]));
        assert_eq!(t.zip_county.get(&37203), Some(&[(*b"TN", 37)][..]));
        assert_eq!(t.zip_county.get(&10001), None);
    }

    #[test]
    fn sst_file_name_must_name_the_state() {
        assert!(load_with(("us-sst/rates/minnesota.csv", "27,01,43000,0.005,0,0,0,20051001,29991231\n")).is_err());
    }
}
