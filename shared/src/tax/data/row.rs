//! Reading one CSV row: typed fields that fail with `data/<file>:<line>`, and the checks every loader shares
//! (header, date range, sources, overlaps).

use super::{DataError, Decimal, NaiveDate, Record, Set};

pub(crate) fn err(file: &str, line: usize, message: impl Into<String>) -> DataError {
    DataError { file: file.to_owned(), line, message: message.into() }
}

/// Field access with file:line errors.
pub(crate) struct Row<'r> {
    pub(crate) file: &'r str,
    pub(crate) rec: &'r Record<'r>,
}

impl Row<'_> {
    pub(crate) fn get(&self, i: usize) -> Result<&str, DataError> {
        self.rec
            .fields
            .get(i)
            .map(str::trim)
            .ok_or_else(|| err(self.file, self.rec.line, format!("missing column {}", i + 1)))
    }
    pub(crate) fn req(&self, i: usize, what: &str) -> Result<&str, DataError> {
        let v = self.get(i)?;
        if v.is_empty() { Err(err(self.file, self.rec.line, format!("{what} is empty"))) } else { Ok(v) }
    }
    pub(crate) fn date(&self, i: usize, what: &str) -> Result<NaiveDate, DataError> {
        let v = self.req(i, what)?;
        ymd(v).ok_or_else(|| err(self.file, self.rec.line, format!("{what} {v:?} is not a YYYY-MM-DD date")))
    }
    pub(crate) fn opt_date(&self, i: usize, what: &str) -> Result<Option<NaiveDate>, DataError> {
        if self.get(i)?.is_empty() { Ok(None) } else { self.date(i, what).map(Some) }
    }
    pub(crate) fn percent(&self, i: usize, what: &str) -> Result<Decimal, DataError> {
        let v = self.req(i, what)?;
        let d: Decimal =
            v.parse().map_err(|_| err(self.file, self.rec.line, format!("{what} {v:?} is not a decimal number")))?;
        if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
            return Err(err(self.file, self.rec.line, format!("{what} {v} is outside 0..=100")));
        }
        Ok(d.normalize())
    }
    pub(crate) fn fail(&self, message: impl Into<String>) -> DataError {
        err(self.file, self.rec.line, message)
    }
}

pub(crate) fn check_header(file: &str, recs: &[Record<'_>], expected: &[&str]) -> Result<(), DataError> {
    let Some(first) = recs.first() else { return Err(err(file, 1, "empty file")) };
    let got: Vec<&str> = first.fields.iter().map(str::trim).collect();
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

pub(crate) fn check_range(row: &Row<'_>, from: NaiveDate, to: Option<NaiveDate>) -> Result<(), DataError> {
    match to {
        Some(t) if t < from => Err(row.fail(format!("effective_to {t} is before effective_from {from}"))),
        _ => Ok(()),
    }
}

pub(crate) fn check_sources(row: &Row<'_>, i: usize, known: &Set<String>) -> Result<(), DataError> {
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

pub(crate) fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    let a_end = a.1.unwrap_or(NaiveDate::MAX);
    let b_end = b.1.unwrap_or(NaiveDate::MAX);
    a.0 <= b_end && b.0 <= a_end
}

pub(crate) fn parse_zip5(s: &str) -> Option<u32> {
    if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

pub(crate) fn parse_fips3(s: &str) -> Option<u16> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

pub(crate) fn state_code(s: &str) -> Option<[u8; 2]> {
    let b = s.as_bytes();
    (b.len() == 2 && b.iter().all(u8::is_ascii_uppercase)).then(|| [b[0], b[1]])
}

/// `YYYY-MM-DD`, exactly (two dates on most of the content's rows: chrono's format-string parser took a tenth of
/// the load). The exposure tables read their dates with it too.
pub(crate) fn ymd(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &[u8]| s.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')));
    NaiveDate::from_ymd_opt(i32::try_from(num(&b[..4])?).ok()?, num(&b[5..7])?, num(&b[8..])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        assert_eq!(ymd("2026-04-01"), NaiveDate::from_ymd_opt(2026, 4, 1));
        assert_eq!(ymd("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        for bad in
            ["2025-02-29", "2026-4-01", "2026/04/01", "26-04-2026", "2026-04-01 ", "2026-13-01", "2026-0a-01", ""]
        {
            assert_eq!(ymd(bad), None, "{bad:?}");
        }
    }
}
