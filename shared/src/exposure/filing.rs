//! Filing-ready totals of one jurisdiction for one period (month, quarter or year), from the running totals:
//! gross, exempt and taxable sales, tax collected (on the documents) and calculated (by us), and our calculations'
//! breakdown by state, county, city and district; and its CSV (RFC 4180, one row per jurisdiction). Pure.
//!
//! Amounts stay in the documents' currency, one block per currency: a return is filed in the currency of the
//! sales, and a conversion here would make the totals stop matching the ledger to the cent.

use super::counters::{JurisdictionTotals, MonthCounter};
use super::engine::covers;
use crate::domain::Decimal;
use chrono::{Months, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// A filing period: `2026-07` (month), `2026-Q3` (quarter) or `2026` (year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilingPeriod {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("period must be YYYY-MM, YYYY-Qn or YYYY (got {0:?})")]
pub struct BadPeriod(pub String);

impl FilingPeriod {
    pub fn parse(s: &str) -> Result<FilingPeriod, BadPeriod> {
        let bad = || BadPeriod(s.chars().take(40).collect());
        let year = |y: &str| y.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(bad);
        let (from, months) = match s.split_once('-') {
            None => (NaiveDate::from_ymd_opt(year(s)?, 1, 1), 12),
            Some((y, q)) if q.starts_with('Q') => {
                let q: u32 = q[1..].parse().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?;
                (NaiveDate::from_ymd_opt(year(y)?, (q - 1) * 3 + 1, 1), 3)
            }
            Some((y, m)) if m.len() == 2 => {
                let m: u32 = m.parse().ok().filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
                (NaiveDate::from_ymd_opt(year(y)?, m, 1), 1)
            }
            Some(_) => return Err(bad()),
        };
        let from = from.ok_or_else(bad)?;
        let to = (from + Months::new(months)).pred_opt().ok_or_else(bad)?;
        Ok(FilingPeriod { from, to })
    }

    /// The `YYYY-MM` months it covers.
    pub fn months(&self) -> (String, String) {
        (super::counters::month_of(self.from), super::counters::month_of(self.to))
    }
}

/// One currency's totals of a filing report. Sales are net of discounts and exclude tax; credit notes are
/// subtracted on their own dates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FilingTotals {
    pub currency: String,
    pub invoices: i64,
    pub credit_notes: i64,
    pub gross_sales: Decimal,
    pub exempt_sales: Decimal,
    pub taxable_sales: Decimal,
    pub tax_collected: Decimal,
    pub tax_calculated: Decimal,
    /// Documents whose tax we did not calculate (their tax is in `tax_collected` only).
    pub uncalculated_documents: i64,
    /// Our calculations by jurisdiction: the lines' amounts each one taxed, and its tax.
    pub jurisdictions: Vec<JurisdictionTotals>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilingReport {
    pub jurisdiction: String,
    pub period: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currencies: Vec<FilingTotals>,
}

/// The report of `jurisdiction` (`US-WA`, `DE`, …) for `period` from the counters of its months.
pub fn report(jurisdiction: &str, period_name: &str, period: FilingPeriod, counters: &[MonthCounter]) -> FilingReport {
    let (first, last) = period.months();
    let mut by_currency: BTreeMap<String, FilingTotals> = BTreeMap::new();
    let mut by_jurisdiction: BTreeMap<(String, String, String), JurisdictionTotals> = BTreeMap::new();
    for c in counters.iter().filter(|c| c.month >= first && c.month <= last && covers(jurisdiction, &c.region)) {
        for cur in &c.currencies {
            let t = by_currency
                .entry(cur.currency.clone())
                .or_insert_with(|| FilingTotals { currency: cur.currency.clone(), ..FilingTotals::default() });
            let m = &cur.month;
            t.invoices += m.invoices;
            t.credit_notes += m.credit_notes;
            t.gross_sales += m.net_sales();
            t.taxable_sales += m.net_taxable();
            t.tax_collected += m.tax_collected;
            t.tax_calculated += m.tax_calculated;
            t.uncalculated_documents += m.uncalculated;
            for j in &cur.jurisdictions {
                let e = by_jurisdiction
                    .entry((cur.currency.clone(), j.jurisdiction.clone(), j.tax_type.clone()))
                    .or_insert_with(|| JurisdictionTotals { taxable: Decimal::ZERO, tax: Decimal::ZERO, ..j.clone() });
                e.taxable += j.taxable;
                e.tax += j.tax;
            }
        }
    }
    for ((currency, _, _), j) in by_jurisdiction {
        if let Some(t) = by_currency.get_mut(&currency) {
            t.jurisdictions.push(j);
        }
    }
    let currencies = by_currency
        .into_values()
        .map(|mut t| {
            t.exempt_sales = t.gross_sales - t.taxable_sales;
            for v in [
                &mut t.gross_sales,
                &mut t.exempt_sales,
                &mut t.taxable_sales,
                &mut t.tax_collected,
                &mut t.tax_calculated,
            ] {
                *v = v.normalize();
            }
            t
        })
        .collect();
    FilingReport {
        jurisdiction: jurisdiction.to_owned(),
        period: period_name.to_owned(),
        from: period.from,
        to: period.to,
        currencies,
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "period",
    "from",
    "to",
    "currency",
    "jurisdiction",
    "tax_type",
    "invoices",
    "credit_notes",
    "gross_sales",
    "exempt_sales",
    "taxable_sales",
    "tax_collected",
    "tax_calculated",
];

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// RFC 4180 (CRLF, quoted where needed): per currency a first row with the whole jurisdiction's totals, then
/// one row per jurisdiction of our calculations (its taxable amount and calculated tax).
pub fn to_csv(r: &FilingReport) -> Result<String, csv::Error> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(CSV_HEADER)?;
    let (from, to) = (r.from.to_string(), r.to.to_string());
    for t in &r.currencies {
        w.write_record([
            r.period.as_str(),
            &from,
            &to,
            &t.currency,
            &r.jurisdiction,
            "total",
            &t.invoices.to_string(),
            &t.credit_notes.to_string(),
            &money(t.gross_sales),
            &money(t.exempt_sales),
            &money(t.taxable_sales),
            &money(t.tax_collected),
            &money(t.tax_calculated),
        ])?;
        for j in &t.jurisdictions {
            w.write_record([
                r.period.as_str(),
                &from,
                &to,
                &t.currency,
                &j.jurisdiction,
                &j.tax_type,
                "",
                "",
                "",
                "",
                &money(j.taxable),
                "",
                &money(j.tax),
            ])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::counters::{Contribution, Totals};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn counter(month: &str, region: &str, day: u32, sales: &str, refunds: &str, exempt: &str) -> MonthCounter {
        let mut c = MonthCounter::new(month, region);
        let totals = Totals {
            invoices: 2,
            credit_notes: 1,
            sales: dec(sales),
            taxable_sales: dec(sales) - dec(exempt),
            refunds: dec(refunds),
            taxable_refunds: dec(refunds),
            tax_collected: dec("10.25"),
            tax_calculated: dec("10.24"),
            uncalculated: 0,
        };
        let j = vec![JurisdictionTotals {
            jurisdiction: "SEATTLE, CITY, \"RTA\"".into(),
            tax_type: "sales_tax".into(),
            taxable: dec("100"),
            tax: dec("3.85"),
        }];
        c.apply(
            &Contribution {
                month: month.into(),
                region: region.into(),
                currency: "USD".into(),
                day,
                totals,
                jurisdictions: j,
            },
            1,
        );
        c
    }

    #[test]
    fn periods() {
        let q = FilingPeriod::parse("2026-Q3").unwrap();
        assert_eq!((q.from.to_string(), q.to.to_string()), ("2026-07-01".into(), "2026-09-30".into()));
        assert_eq!(FilingPeriod::parse("2024-02").unwrap().to.to_string(), "2024-02-29");
        assert_eq!(FilingPeriod::parse("2026").unwrap().months(), ("2026-01".into(), "2026-12".into()));
        for bad in ["2026-Q5", "2026-13", "26", "2026-7", "x", "2026-Qx", ""] {
            assert!(FilingPeriod::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn totals_of_the_period_and_region_only_and_rfc4180_csv() {
        let counters = [
            counter("2026-06", "US-WA", 30, "1000", "0", "0"),
            counter("2026-07", "US-WA", 1, "200.10", "50", "100"),
            counter("2026-09", "US-WA", 30, "300", "0", "0"),
            counter("2026-08", "US-OR", 3, "999", "0", "0"),
            counter("2026-10", "US-WA", 1, "999", "0", "0"),
        ];
        let r = report("US-WA", "2026-Q3", FilingPeriod::parse("2026-Q3").unwrap(), &counters);
        let t = &r.currencies[0];
        assert_eq!((t.invoices, t.credit_notes), (4, 2));
        assert_eq!(t.gross_sales, dec("450.1"), "200.10 + 300 − 50");
        assert_eq!(t.taxable_sales, dec("350.1"));
        assert_eq!(t.exempt_sales, dec("100"));
        assert_eq!((t.tax_collected, t.tax_calculated), (dec("20.5"), dec("20.48")));
        assert_eq!(t.jurisdictions[0].tax, dec("7.7"));
        let csv = to_csv(&r).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(lines[1], "2026-Q3,2026-07-01,2026-09-30,USD,US-WA,total,4,2,450.10,100.00,350.10,20.50,20.48");
        assert_eq!(
            lines[2],
            "2026-Q3,2026-07-01,2026-09-30,USD,\"SEATTLE, CITY, \"\"RTA\"\"\",sales_tax,,,,,200.00,,7.70"
        );
        assert_eq!(lines[3], "", "every record ends with CRLF");
    }
}
