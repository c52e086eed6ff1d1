//! Address → jurisdictions with their rates on the tax date, and how precisely the address was resolved.
//!
//! US: the state row of `rates/us-states.csv`, then local rates from (in order) the SST boundary file (ZIP+4, then
//! ZIP5 ranges), the SST rates file via ZIP5 → county, county / city tables by ZIP5 → county and city name
//! (`us-county-city`, see `county_city`), or our cited city tables (`us-local`), with a warning
//! whenever only part of the local stack is known. Canada: HST, or GST + PST/QST/RST. Elsewhere: the national rate.

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::address::{NormAddress, is_us_state};
use super::data::{Kind, SstState, Tables, in_force};
use super::error::TaxError;
use super::types::{MISSING_CITY, MISSING_DISTRICT, MISSING_LOCAL, Resolution};

/// Which tax family a jurisdiction belongs to (drives taxability and registration rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// US state and local sales taxes.
    UsSales,
    /// Canadian GST or HST.
    CaFederal,
    /// Canadian provincial PST / RST.
    CaPst,
    /// Quebec QST.
    CaQst,
    /// VAT / GST / JCT of a national system.
    National,
}

/// One taxing jurisdiction that applies at the address. Its names borrow from the tables (or the request), so
/// resolving an address copies no strings; only a name built for the address (an unnamed county) is owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Juris<'a> {
    pub name: Cow<'a, str>,
    pub display_name: Cow<'a, str>,
    pub tax_type: &'static str,
    /// Percent.
    pub rate: Decimal,
    pub family: Family,
    /// A US local (county / city / district) jurisdiction: product rate overrides of the state do not apply.
    pub local: bool,
}

/// What the local (county / city / district) resolution of a US address adds.
#[derive(Debug, Default)]
pub(crate) struct LocalOut<'a> {
    pub juris: Vec<Juris<'a>>,
    pub warnings: Vec<String>,
    pub missing: Vec<&'static str>,
}

impl LocalOut<'_> {
    /// Reports a kind of jurisdiction as missing (`types::MISSING_*`), once.
    pub(crate) fn miss(&mut self, kind: &'static str) {
        if !self.missing.contains(&kind) {
            self.missing.push(kind);
        }
    }
}

/// The outcome of resolving one address.
#[derive(Debug, Clone)]
pub(crate) struct Resolved<'a> {
    pub country: Cow<'a, str>,
    pub region: Option<Cow<'a, str>>,
    /// Jurisdictions with a non-zero rate (empty: no tax there).
    pub juris: Vec<Juris<'a>>,
    /// False when we hold no rate data for the country at all.
    pub covered: bool,
    pub resolution: Resolution,
    pub warnings: Vec<String>,
    /// Kinds of jurisdiction that may apply but are not in our data (`types::MISSING_*`).
    pub missing: Vec<&'static str>,
}

/// EU member states (ISO codes; Greece as GR). A legal fact, not a rate.
pub(crate) const EU27: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

fn standard_rows<'t>(
    t: &'t Tables,
    country: &str,
    region: &str,
    date: NaiveDate,
) -> impl Iterator<Item = &'t super::data::RateRow> {
    t.rates
        .get(country, region)
        .into_iter()
        .flatten()
        .filter(move |r| r.kind == Kind::Standard && in_force(r.from, r.to, date))
}

pub(crate) fn resolve<'a>(t: &'a Tables, a: &NormAddress<'a>, date: NaiveDate) -> Result<Resolved<'a>, TaxError> {
    let c = &*a.country;
    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(TaxError::LocationInvalid(format!("country {:?} is not an ISO 3166 alpha-2 code", a.country)));
    }
    match c {
        "US" => resolve_us(t, a, date),
        "CA" => resolve_ca(t, a, date),
        _ => {
            // No standard rate in force on the date (country not in our data, or the date precedes it): a
            // registered org gets a NoRateData error rather than a silent zero.
            let covered = standard_rows(t, c, "", date).next().is_some();
            let juris = standard_rows(t, c, "", date)
                .filter(|r| r.rate > Decimal::ZERO)
                .map(|r| Juris {
                    name: Cow::Borrowed(&r.jurisdiction),
                    display_name: Cow::Borrowed(&r.display_name),
                    tax_type: r.tax_type,
                    rate: r.rate,
                    family: Family::National,
                    local: false,
                })
                .collect::<Vec<_>>();
            let warnings = Vec::new();
            Ok(Resolved {
                country: a.country.clone(),
                region: a.region.clone(),
                juris,
                covered,
                resolution: Resolution::Country,
                warnings,
                missing: Vec::new(),
            })
        }
    }
}

fn resolve_ca<'a>(t: &'a Tables, a: &NormAddress<'a>, date: NaiveDate) -> Result<Resolved<'a>, TaxError> {
    let Some(prov) = a.region.clone() else {
        return Err(TaxError::LocationInvalid(match &a.region_unknown {
            Some(r) => format!("{r:?} is not a Canadian province or territory"),
            None => "a Canadian address needs its province".to_owned(),
        }));
    };
    let mut juris = Vec::new();
    let prov_rows: Vec<_> = standard_rows(t, "CA", &prov, date).collect();
    let mut warnings = Vec::new();
    if prov_rows.is_empty() {
        warnings.push(format!("no {prov} provincial rate in our data for {date}; federal GST only"));
    }
    if let Some(hst) = prov_rows.iter().find(|r| r.tax_type == "hst") {
        juris.push(Juris {
            name: Cow::Borrowed(&hst.jurisdiction),
            display_name: Cow::Borrowed(&hst.display_name),
            tax_type: "hst",
            rate: hst.rate,
            family: Family::CaFederal,
            local: false,
        });
    } else {
        for g in standard_rows(t, "CA", "", date) {
            juris.push(Juris {
                name: Cow::Borrowed(&g.jurisdiction),
                display_name: Cow::Borrowed(&g.display_name),
                tax_type: g.tax_type,
                rate: g.rate,
                family: Family::CaFederal,
                local: false,
            });
        }
        for p in prov_rows.iter().filter(|r| r.rate > Decimal::ZERO) {
            juris.push(Juris {
                name: Cow::Borrowed(&p.jurisdiction),
                display_name: Cow::Borrowed(&p.display_name),
                tax_type: p.tax_type,
                rate: p.rate,
                family: if p.tax_type == "qst" { Family::CaQst } else { Family::CaPst },
                local: false,
            });
        }
    }
    Ok(Resolved {
        country: "CA".into(),
        region: Some(prov),
        juris,
        covered: true,
        resolution: Resolution::Region,
        warnings,
        missing: Vec::new(),
    })
}

pub(super) fn us_juris<'a>(name: impl Into<Cow<'a, str>>, rate: Decimal) -> Juris<'a> {
    Juris {
        name: name.into(),
        display_name: Cow::Borrowed("Sales Tax"),
        tax_type: "sales_tax",
        rate,
        family: Family::UsSales,
        local: true,
    }
}

fn resolve_us<'a>(t: &'a Tables, a: &NormAddress<'a>, date: NaiveDate) -> Result<Resolved<'a>, TaxError> {
    // The ZIP's (state, county) pairs from the Census ZCTA relation, used to derive or cross-check the state.
    let zip_counties: &[([u8; 2], u16)] = a.zip5.and_then(|z| t.zip_county.get(&z)).unwrap_or(&[]);
    if a.postal.is_some() && a.zip5.is_none() {
        return Err(TaxError::LocationInvalid(format!("{:?} is not a US ZIP or ZIP+4", a.postal.unwrap_or(""))));
    }
    let state = match (&a.region, &a.region_unknown) {
        (Some(s), _) => s.clone(),
        (_, Some(r)) => return Err(TaxError::LocationInvalid(format!("{r:?} is not a US state"))),
        _ => match zip_counties {
            [(first, _), rest @ ..] if rest.iter().all(|(st, _)| st == first) => {
                Cow::Owned(String::from_utf8_lossy(first).into_owned())
            }
            _ => return Err(TaxError::LocationInvalid("a US address needs a state or a known ZIP code".into())),
        },
    };
    if let Some(z) = a.zip5
        && !zip_counties.is_empty()
        && !zip_counties.iter().any(|(st, _)| st == state.as_bytes())
    {
        return Err(TaxError::LocationInvalid(format!("ZIP {z:05} is not in {state}")));
    }
    if !is_us_state(&state) && t.rates.get("US", &state).is_none() {
        // A territory without rows in our data (GU, VI, AS, MP; Puerto Rico has its IVU rows): a valid address.
        return Ok(Resolved {
            country: "US".into(),
            region: Some(state),
            juris: Vec::new(),
            covered: false,
            resolution: Resolution::Region,
            warnings: Vec::new(),
            missing: Vec::new(),
        });
    }
    let Some(state_row) = standard_rows(t, "US", &state, date).next() else {
        // No state rate on this date (before our first row): not an error here. An org that is not registered in
        // the state gets `not_collecting`; a registered one gets `NoRateData` naming the state (pipeline::template).
        return Ok(Resolved {
            country: "US".into(),
            region: Some(state.clone()),
            juris: Vec::new(),
            covered: false,
            resolution: Resolution::Region,
            warnings: vec![format!("no {state} state rate in our data for {date}")],
            missing: vec![MISSING_LOCAL],
        });
    };
    let mut juris = Vec::new();
    if state_row.rate > Decimal::ZERO {
        juris.push(Juris {
            name: Cow::Borrowed(&state_row.jurisdiction),
            display_name: Cow::Borrowed(&state_row.display_name),
            tax_type: state_row.tax_type,
            rate: state_row.rate,
            family: Family::UsSales,
            local: false,
        });
    }
    let mut out = LocalOut { juris, ..LocalOut::default() };
    // Local taxes levied at every address of the state (us-local/statewide.csv), whatever else is known.
    let statewide: Vec<_> = t
        .statewide_local
        .get(&*state)
        .into_iter()
        .flatten()
        .filter(|c| in_force(c.from, c.to, date) && c.rate > Decimal::ZERO)
        .collect();
    for c in &statewide {
        out.juris.push(us_juris(&*c.jurisdiction, c.rate));
    }
    let resolution = if t.no_local_tax.contains(&*state) {
        Resolution::Region
    } else if let Some(sst) = t.sst.get(&*state) {
        sst_locals(t, sst, &state, a, date, &mut out)
    } else if t.local_states.contains(&*state) || t.county_city.contains_key(&*state) {
        // The revenue department's place table first (ZIP lists: the most specific), then the county / city
        // table for every other address of the state.
        let placed =
            if t.local_states.contains(&*state) { table_locals(t, &state, a, date, &mut out) } else { Err(None) };
        match (placed, t.county_city.get(&*state)) {
            (Ok(r), _) => r,
            (Err(_), Some(cc)) => super::county_city::locals(t, cc, &state, a, date, &mut out)?,
            (Err(why), None) => {
                out.warnings.push(why.unwrap_or_else(|| format!("local rates for this {state} place not in our data")));
                out.missing.push(MISSING_LOCAL);
                Resolution::Region
            }
        }
    } else {
        out.warnings.push(if statewide.is_empty() {
            format!("local rates not in our data for {state}; state rate only")
        } else {
            format!("local rates not in our data for {state} beyond its statewide local taxes")
        });
        out.missing.push(MISSING_LOCAL);
        Resolution::Region
    };
    let LocalOut { juris, warnings, missing } = out;
    Ok(Resolved { country: "US".into(), region: Some(state), juris, covered: true, resolution, warnings, missing })
}

fn sst_rate(sst: &SstState, code: &str, jtype: Option<&str>, date: NaiveDate) -> Option<Decimal> {
    sst.rates
        .get(code)?
        .iter()
        .find(|r| jtype.is_none_or(|j| r.jtype == j) && in_force(r.from, r.to, date))
        .map(|r| r.rate)
}

pub(super) fn county_name<'a>(t: &'a Tables, state: &str, county: u16) -> Cow<'a, str> {
    let key = super::data::state_code(state).map(|s| (s, county));
    key.and_then(|k| t.county_names.get(&k))
        .map_or_else(|| Cow::Owned(format!("{state} county {county:03}")), |n| Cow::Borrowed(n.as_str()))
}

fn sst_locals<'a>(
    t: &'a Tables,
    sst: &'a SstState,
    state: &str,
    a: &NormAddress,
    date: NaiveDate,
    out: &mut LocalOut<'a>,
) -> Resolution {
    let Some(zip5) = a.zip5 else {
        out.warnings.push(format!("no ZIP code: local {state} rates not applied; state rate only"));
        out.missing.push(MISSING_LOCAL);
        return Resolution::Region;
    };
    let z = u64::from(zip5) * 10_000;
    let live = |b: &&super::data::Boundary| in_force(b.from, b.to, date);
    let by_zip4 = a.zip4.and_then(|z4| {
        let key = z + u64::from(z4);
        sst.candidates(zip5).filter(live).find(|b| b.zip4 && b.lo <= key && key <= b.hi)
    });
    let by_zip5 = || sst.candidates(zip5).filter(live).find(|b| !b.zip4 && b.lo <= z && z + 9999 <= b.hi);
    let (hit, resolution) = match by_zip4 {
        Some(b) => (Some(b), Resolution::Zip4),
        None => (by_zip5(), Resolution::Zip5),
    };
    if let Some(b) = hit {
        if let Some(c) = &b.county
            && let Some(rate) = sst_rate(sst, c, Some("00"), date)
            && rate > Decimal::ZERO
        {
            let name = c.parse::<u16>().map_or_else(|_| Cow::Borrowed(c.as_str()), |n| county_name(t, state, n));
            out.juris.push(us_juris(name, rate));
        }
        if let Some(l) = &b.local
            && let Some(rate) = sst_rate(sst, l, None, date)
            && rate > Decimal::ZERO
        {
            let name = t
                .sst_place_names
                .get(state, l)
                .map_or_else(|| Cow::Owned(format!("{state} local jurisdiction {l}")), |n| Cow::Borrowed(n.as_str()));
            out.juris.push(us_juris(name, rate));
        }
        for (code, jtype) in &b.districts {
            if let Some(rate) = sst_rate(sst, code, Some(jtype), date)
                && rate > Decimal::ZERO
            {
                out.juris.push(us_juris(format!("{state} special district {code}"), rate));
            }
        }
        return resolution;
    }
    // No boundary record: ZIP5 → county through the Census relation, county rows of the rates file.
    let counties: Vec<u16> = t
        .zip_county
        .get(&zip5)
        .map(|v| v.iter().filter(|(s, _)| s == state.as_bytes()).map(|(_, c)| *c).collect())
        .unwrap_or_default();
    if counties.is_empty() {
        out.warnings.push(format!("ZIP {zip5:05} has no county in our data; {state} state rate only"));
        out.missing.push(MISSING_LOCAL);
        return Resolution::Region;
    }
    // The city tax by city name (SST rate files key city taxes by FIPS place code; us-sst/place-codes.csv).
    let city = a.place_key.as_ref();
    let place = city.and_then(|c| t.sst_places.get(state, c));
    // A postal city name is not the city's limits: the city tax applies by name only when every county the ZIP
    // touches is one the city lies in (ZIP 30339 "Atlanta" reaches Cobb County, outside Atlanta: no city tax),
    // and then the address is taken to be in the ZIP's first county outside the city.
    let outside: Vec<u16> =
        place.map(|p| counties.iter().copied().filter(|c| !p.counties.contains(c)).collect()).unwrap_or_default();
    let first = outside.first().copied().unwrap_or(counties[0]);
    if counties.len() > 1 {
        let names: Vec<Cow<'_, str>> = counties.iter().map(|c| county_name(t, state, *c)).collect();
        out.warnings.push(format!(
            "ZIP {zip5:05} spans {}; used {} (send ZIP+4 for precision)",
            names.join(", "),
            county_name(t, state, first)
        ));
    }
    if let Some(rate) = sst_rate(sst, &format!("{first:03}"), Some("00"), date)
        && rate > Decimal::ZERO
    {
        out.juris.push(us_juris(county_name(t, state, first), rate));
    }
    let mut resolution = Resolution::Zip5;
    let place = match place {
        Some(p) if !outside.is_empty() => {
            let names: Vec<Cow<'_, str>> = outside.iter().map(|c| county_name(t, state, *c)).collect();
            out.warnings.push(format!(
                "ZIP {zip5:05} reaches {}, outside {}; its city tax was not applied (candidates: {} city tax or none; send ZIP+4 or use the city's own ZIP)",
                names.join(", "),
                p.name,
                p.name
            ));
            out.missing.push(MISSING_CITY);
            None
        }
        p => p,
    };
    // County-wide special districts (transit, housing) from us-sst/district-counties.csv, except inside the city
    // a row excludes (Fulton County's transportation tax is not levied in Atlanta).
    let districts = super::data::state_code(state).and_then(|s| t.sst_county_districts.get(&(s, first)));
    for (code, name, except) in districts.into_iter().flatten() {
        if except.is_some() && except.as_deref() == place.map(|p| p.code.as_str()) {
            continue;
        }
        if let Some(rate) = sst_rate(sst, code, Some("63"), date)
            && rate > Decimal::ZERO
        {
            out.juris.push(us_juris(name.clone(), rate));
        }
    }
    if let Some(p) = place {
        resolution = Resolution::City;
        if let Some(rate) = sst_rate(sst, &p.code, Some("01"), date)
            && rate > Decimal::ZERO
        {
            out.juris.push(us_juris(p.name.clone(), rate));
        }
        out.warnings.push(format!(
            "{state}: boundary data for this ZIP not in our data; county rate from ZIP→county and city rate from the city name, special-district rates only where us-sst/district-counties.csv maps them to the county"
        ));
        out.missing.push(MISSING_DISTRICT);
    } else {
        out.warnings.push(format!(
            "{state}: boundary data for this ZIP not in our data; county rate from ZIP→county, city rate not applied, special-district rates only where mapped to the county"
        ));
        out.miss(MISSING_CITY);
        out.missing.push(MISSING_DISTRICT);
    }
    resolution
}

/// The documented rule among several candidate places (a ZIP shared by cities, or a city name without ZIP that
/// spans counties): the place with the most ZIP5s in the table (the city's principal block), ties in data order.
/// The warning lists every candidate so the caller can send a more precise address.
fn choose_place(t: &Tables, candidates: &[usize], warnings: &mut Vec<String>) -> Option<usize> {
    let best = candidates.iter().copied().fold(None, |best: Option<usize>, i| match best {
        Some(b) if t.places[b].zip_count >= t.places[i].zip_count => Some(b),
        _ => Some(i),
    })?;
    if candidates.len() > 1 {
        let labels: Vec<String> = candidates.iter().map(|i| t.places[*i].label()).collect();
        warnings.push(format!(
            "address matches several local jurisdictions: {}; used {} (the one with the most ZIP codes in our data; send the ZIP code for precision)",
            labels.join(", "),
            t.places[best].label()
        ));
    }
    Some(best)
}

/// The place of `us-local/<st>.csv` the address names, with its rows in force; `Err` when there is none (with the
/// reason to give when nothing else knows the address).
fn table_locals<'a>(
    t: &'a Tables,
    state: &str,
    a: &NormAddress,
    date: NaiveDate,
    out: &mut LocalOut<'a>,
) -> Result<Resolution, Option<String>> {
    let city = a.place_key.as_ref();
    let by_name: &[usize] = city.as_ref().and_then(|c| t.place_by_name.get(state, c)).map_or(&[], Vec::as_slice);
    // A city the place table does not list but the state's county / city table does: that table answers (the
    // ZIP's place in this table is a neighbour sharing the ZIP: 79226 "Howardwick" is not Clarendon). A table
    // that fails to read answers too: `county_city::locals` returns its error.
    if by_name.is_empty()
        && let Some(c) = &city
        && t.county_city.get(state).is_some_and(|cc| cc.table(t, state).map_or(true, |tb| tb.knows_city(c)))
    {
        return Err(None);
    }
    let by_zip: &[usize] = a.zip5.and_then(|z| t.place_by_zip.get(&z)).map_or(&[], Vec::as_slice);
    let (candidates, resolution): (Cow<'_, [usize]>, Resolution) = if by_zip.is_empty() {
        (Cow::Borrowed(by_name), Resolution::City)
    } else {
        // City name and ZIP together: the places of the ZIP that carry the name; when the name matches none of
        // them (a postal name, or no name), the ZIP's places.
        let both: Vec<usize> = by_zip.iter().copied().filter(|i| by_name.contains(i)).collect();
        if both.is_empty() && !by_name.is_empty() {
            out.warnings.push(format!(
                "{}: the city named is not a place of ZIP {} in our data; the ZIP's place was used",
                a.city.unwrap_or_default(),
                a.zip5.map(|z| format!("{z:05}")).unwrap_or_default()
            ));
        }
        (if both.is_empty() { Cow::Borrowed(by_zip) } else { Cow::Owned(both) }, Resolution::Zip5)
    };
    let Some(i) = choose_place(t, &candidates, &mut out.warnings) else {
        return Err(None);
    };
    let p = &t.places[i];
    let live = || p.components.iter().filter(|c| in_force(c.from, c.to, date));
    if live().next().is_none() {
        return Err(Some(format!("local rates of {} on {date} not in our data; state rate only", p.name)));
    }
    for c in live() {
        if c.rate > Decimal::ZERO {
            out.juris.push(us_juris(&*c.jurisdiction, c.rate));
        }
    }
    Ok(resolution)
}
