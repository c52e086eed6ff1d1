//! The revenue departments' place tables (`us-local/<st>.csv`), statewide local rates and the states without
//! local tax.

use super::{
    DataError, Decimal, Map, NaiveDate, Row, Tables, check_header, check_range, check_sources, err, overlaps, parse,
    parse_zip5, state_code,
};

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

impl Tables {
    /// `us-local/statewide.csv`: local taxes every address of a state pays (data, not code: a rate chart row).
    pub(super) fn load_statewide(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
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

    pub(super) fn load_no_local(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
        check_header(file, &recs, &["state", "source", "notes"])?;
        for rec in &recs[1..] {
            let row = Row { file, rec };
            check_sources(&row, 1, &self.source_ids)?;
            self.no_local_tax.insert(row.req(0, "state")?.to_owned());
        }
        Ok(())
    }

    pub(super) fn load_local(&mut self, file: &str, text: &str) -> Result<(), DataError> {
        let parsed = parse(file, text)?;
        let recs = parsed.records();
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
            let key = crate::tax::address::norm_name(&name);
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

    /// A local jurisdiction has one rate at a time across every place it appears in (Jackson County is 1.5 %
    /// for Kansas City and for Independence alike): two places disagreeing means one row is wrong.
    pub(super) fn check_local_rates(&self) -> Result<(), DataError> {
        let mut seen: Map<(&str, &str), Vec<&LocalComponent>> = Map::default();
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
}
