//! The Streamlined Sales Tax files: rates and boundaries of SST states, ZIP → county, county names,
//! county-wide districts and place codes.

use super::{
    DataError, Decimal, Map, NaiveDate, Row, Tables, check_header, check_range, check_sources, err, parse, parse_fips3,
    parse_zip5, state_code,
};

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
    pub rates: Map<String, Vec<SstRate>>,
    pub boundaries: Vec<Boundary>,
    /// ZIP5 → indices into `boundaries` of the records whose range touches it (full state files hold ~40k
    /// records; a lookup must not scan them all). Ranges wider than `WIDE_RANGE` ZIP5s go to `wide`.
    pub by_zip5: Map<u32, Vec<usize>>,
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

    /// Appends a row; the rows of one ZIP must be consecutive in one file (checked by [`ZipCounties::finish`]).
    fn push(&mut self, zip: u32, pair: ([u8; 2], u16)) -> Result<(), &'static str> {
        let start = u32::try_from(self.entries.len()).map_err(|_| "too many rows")?;
        self.entries.push(pair);
        match self.index.last_mut() {
            Some(last) if last.0 == zip && last.1 + last.2 == start => last.2 += 1,
            _ => self.index.push((zip, start, 1)),
        }
        Ok(())
    }

    /// Sorts the index; a ZIP whose rows were not consecutive, or that is in both files, is an error (it would
    /// answer with half its rows).
    fn finish(&mut self) -> Result<(), u32> {
        self.index.sort_unstable_by_key(|e| e.0);
        match self.index.windows(2).find(|w| w[0].0 == w[1].0) {
            Some(w) => Err(w[0].0),
            None => Ok(()),
        }
    }
}

impl Tables {
    /// `<ST>R<yyyy>Q<q>…csv`: headerless, 9 columns, rates as fractions, dates YYYYMMDD.
    pub(super) fn load_sst_rates(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let state = sst_state_of(file, 'R')?;
        let parsed = parse(file, text)?;
        let recs = parsed.records();
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
    pub(super) fn load_sst_boundary(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let state = sst_state_of(file, 'B')?;
        let parsed = parse(file, text)?;
        let recs = parsed.records();
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

    /// `us-sst/zip-county.csv` (the Census relation, ≈ 47k rows) and `zip-county-postal.csv` (ZIPs without a
    /// ZCTA: PO boxes, unique ZIPs): parsed without building per-row field vectors (cold-start budget).
    pub(super) fn load_zip_county(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split('\n').enumerate();
        match lines.next() {
            Some((_, h)) if h.trim_end_matches('\r') == "zip5,state,county_fips" => {}
            _ => return Err(err(file, 1, "header must be zip5,state,county_fips")),
        }
        // A row is at least 13 bytes ("00601,PR,001\n"): room for this file's rows, whichever of the two it is.
        let rows = text.len() / 13;
        self.zip_county.entries.reserve(rows);
        self.zip_county.index.reserve(rows);
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
        self.zip_county.finish().map_err(|z| {
            err(file, 0, format!("the rows of ZIP {z:05} are not consecutive, or it is in both ZIP files"))
        })
    }

    /// `us-sst/district-counties.csv`: which SST special districts cover a whole county (see the file's notes for
    /// the evidence of each code). Every code must exist in the state's rates file (checked after all files load).
    pub(super) fn load_district_counties(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
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

    pub(super) fn check_district_codes(&self) -> Result<(), DataError> {
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

    pub(super) fn load_county_names(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
        check_header(file, &recs, &["state", "county_fips", "name"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            let state = state_code(row.req(0, "state")?).ok_or_else(|| row.fail("state is not a 2-letter code"))?;
            let county = parse_fips3(row.req(1, "county_fips")?).ok_or_else(|| row.fail("county_fips not 3 digits"))?;
            self.county_names.insert((state, county), row.req(2, "name")?.to_owned());
        }
        Ok(())
    }

    pub(super) fn load_place_codes(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
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
            self.sst_place_names.insert(&state, &code, place.clone());
            self.sst_places.insert(
                &state,
                &crate::tax::address::norm_name(&place),
                SstPlace { code, name: place, counties },
            );
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
