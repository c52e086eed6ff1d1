//! What the loaded tax content covers, per US state: derived from the tables themselves (never a
//! hand-kept list), so the coverage table in `data/README.md`, `GET /v1/tax-coverage` and the engine
//! cannot disagree. A state is one of:
//!
//! - `no_local_tax`: the state has no local sales taxes (`us-local/no-local-tax.csv`); the state rate is
//!   complete.
//! - `boundaries`: Streamlined Sales Tax rate and boundary files — ZIP+4 resolution to county, city and
//!   special districts.
//! - `county_by_zip`: SST rate files without (full) boundary files — ZIP5 → county through the Census
//!   relation, the city by name for the cities we map; districts are not applied.
//! - `county_city`: county and city rates keyed by county FIPS (`us-county-city/`) — ZIP5 → county
//!   through the Census relation, the city by name; special districts only where a row ties them to a county.
//! - `local_tables`: county / city / district rates from the revenue department's tables, places
//!   chosen by city name and ZIP5.
//! - `statewide_only`: only the local taxes every address of the state pays (`us-local/statewide.csv`);
//!   county, city and district taxes are NOT charged.
//! - `state_rate_only`: no local data — local taxes the state has are NOT charged.
//!
//! [`StateCoverage::is_gap`] is true for the last two: the gaps to close.

use super::data::Tables;
use super::error::DataError;
use chrono::NaiveDate;
use serde::Serialize;

/// Coverage of one US state (or DC / territory with a state row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateCoverage {
    pub state: String,
    /// See the module doc.
    pub local: &'static str,
    /// How precisely an address is resolved.
    pub precision: &'static str,
    /// Local jurisdictions (SST codes or table places) loaded for the state.
    pub local_jurisdictions: usize,
    /// Where the local data comes from (file names; their publications are in `data/sources.csv`).
    pub sources: Vec<String>,
    /// The latest effective date among the state's local rates (its data "as of").
    pub as_of: Option<NaiveDate>,
}

impl StateCoverage {
    /// Local taxes exist in the state that the engine does not charge.
    pub fn is_gap(&self) -> bool {
        matches!(self.local, "state_rate_only" | "statewide_only")
    }
}

/// Boundary files with fewer records than this are samples, not the state's map.
const SAMPLE_BOUNDARY_RECORDS: usize = 1_000;

/// Every US state's coverage; reads every county / city table (an error names the bad row).
pub(crate) fn us(t: &Tables) -> Result<Vec<StateCoverage>, DataError> {
    let mut states: Vec<String> =
        t.rates.get_all("US").map(|m| m.keys().filter(|k| !k.is_empty()).cloned().collect()).unwrap_or_default();
    states.sort();
    let county_city = t
        .county_city
        .iter()
        .map(|(s, cc)| cc.table(t, s).map(|table| (s.as_str(), (cc, table))))
        .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
    let rows = states
        .into_iter()
        .map(|state| {
            if t.no_local_tax.contains(&state) {
                return StateCoverage {
                    state,
                    local: "no_local_tax",
                    precision: "state",
                    local_jurisdictions: 0,
                    sources: vec!["us-local/no-local-tax.csv".into()],
                    as_of: None,
                };
            }
            if let Some(sst) = t.sst.get(&state) {
                let full = sst.boundaries.len() >= SAMPLE_BOUNDARY_RECORDS;
                let as_of = sst.rates.values().flatten().map(|r| r.from).max();
                return StateCoverage {
                    local: if full { "boundaries" } else { "county_by_zip" },
                    precision: if full { "zip4" } else { "zip5 (county), city by name" },
                    local_jurisdictions: sst.rates.len(),
                    sources: sst.files.clone(),
                    as_of,
                    state,
                };
            }
            if let Some((cc, table)) = county_city.get(state.as_str())
                && !t.local_states.contains(&state)
            {
                return StateCoverage {
                    local: "county_city",
                    precision: "zip5 (county), city by name",
                    local_jurisdictions: table.jurisdictions(),
                    sources: cc.files.clone(),
                    as_of: table.as_of(),
                    state,
                };
            }
            if t.local_states.contains(&state) {
                let places: Vec<usize> = t
                    .place_by_name
                    .get_all(&state)
                    .map(|m| m.values().flatten().copied().collect())
                    .unwrap_or_default();
                let as_of =
                    places.iter().filter_map(|i| t.places.get(*i)).flat_map(|p| &p.components).map(|c| c.from).max();
                let mut sources = vec![format!("us-local/{}.csv", state.to_ascii_lowercase())];
                let mut local_jurisdictions = places.len();
                let mut as_of = as_of;
                let mut precision = "city name + zip5";
                // Places the table does not list fall back to the state's county / city table.
                if let Some((cc, table)) = county_city.get(state.as_str()) {
                    sources.extend(cc.files.iter().cloned());
                    local_jurisdictions += table.jurisdictions();
                    as_of = as_of.max(table.as_of());
                    precision = "city name + zip5; elsewhere zip5 (county), city by name";
                }
                return StateCoverage { local: "local_tables", precision, local_jurisdictions, sources, as_of, state };
            }
            if let Some(comps) = t.statewide_local.get(&state) {
                return StateCoverage {
                    local: "statewide_only",
                    precision: "state",
                    local_jurisdictions: comps.len(),
                    sources: vec!["us-local/statewide.csv".into()],
                    as_of: comps.iter().map(|c| c.from).max(),
                    state,
                };
            }
            StateCoverage {
                state,
                local: "state_rate_only",
                precision: "state",
                local_jurisdictions: 0,
                sources: Vec::new(),
                as_of: None,
            }
        })
        .collect();
    Ok(rows)
}

/// The Markdown table `data/README.md` carries (a test keeps the two equal).
pub fn markdown(rows: &[StateCoverage]) -> String {
    let mut out = String::from(
        "| state | local data | precision | local jurisdictions | source files | as of |\n|---|---|---|---:|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.state,
            r.local,
            r.precision,
            r.local_jurisdictions,
            if r.sources.is_empty() { "–".to_owned() } else { r.sources.join(", ") },
            r.as_of.map_or("–".to_owned(), |d| d.to_string()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::tax::Engine;

    /// `data/README.md` carries exactly the table the loaded content gives; regenerate it with
    /// `cargo test -p shared --lib coverage -- --nocapture` and paste the printed table.
    #[test]
    fn the_readme_table_is_the_loaded_coverage() {
        let engine = Engine::load().unwrap();
        let rows = engine.us_coverage().unwrap();
        let table = super::markdown(&rows);
        println!("{table}");
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/README.md")).unwrap();
        assert!(
            readme.contains(&table),
            "data/README.md's coverage table is out of date; the loaded content gives:\n{table}"
        );
        assert!(rows.len() >= 51, "50 states and DC");
        let by = |s: &str| rows.iter().find(|r| r.state == s).unwrap().local;
        assert_eq!(by("DE"), "no_local_tax");
        assert_eq!(by("NY"), "local_tables");
    }
}
