//! Dated exchange rates: the ECB's euro reference rates (`data/fx/ecb-eurofxref.csv`, see its README), used to
//! convert each day's sales into a threshold's currency at that day's rate. Pure lookups over an immutable table.

use crate::domain::Decimal;
use crate::tax::DataError;
use chrono::NaiveDate;
use std::collections::HashMap;

/// Per currency, `(date, units per 1 EUR)` in date order.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    per_eur: HashMap<String, Vec<(NaiveDate, Decimal)>>,
    last_date: Option<NaiveDate>,
}

/// Which rate a conversion used (reported with the exposure, so a reader can check it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateUsed {
    /// The ECB publication date of the rates (the latest on or before the sale's day).
    pub date: NaiveDate,
    /// Units of the target currency per unit of the source currency.
    pub rate: Decimal,
}

/// The name of the source, as shown next to converted amounts.
pub const SOURCE: &str = "ECB euro foreign exchange reference rates (data/fx/ecb-eurofxref.csv)";

fn err(file: &str, line: usize, message: impl Into<String>) -> DataError {
    DataError { file: file.to_owned(), line, message: message.into() }
}

impl Rates {
    /// The table embedded from `data/fx/ecb-eurofxref.csv`.
    pub fn embedded() -> Result<Rates, DataError> {
        let (file, text) = crate::tax::embedded_file("fx/ecb-eurofxref.csv")
            .ok_or_else(|| err("fx/ecb-eurofxref.csv", 0, "file missing"))?;
        Rates::parse(file, text)
    }

    /// Parses `date,currency,per_eur` rows; dates must not go backwards within a currency.
    pub fn parse(file: &str, text: &str) -> Result<Rates, DataError> {
        let parsed = crate::tax::csv_parse(file, text)?;
        let records = parsed.records();
        let mut rates = Rates::default();
        for r in records.iter().skip(1) {
            let f = |i: usize| r.fields.get(i).unwrap_or("").trim();
            let date = crate::tax::parse_ymd(f(0))
                .ok_or_else(|| err(file, r.line, format!("date: {:?} is not YYYY-MM-DD", f(0))))?;
            let rate: Decimal = f(2).parse().map_err(|_| err(file, r.line, format!("per_eur: {:?}", f(2))))?;
            if rate <= Decimal::ZERO || f(1).len() != 3 {
                return Err(err(file, r.line, "currency must be an ISO code and per_eur positive"));
            }
            let series = rates.per_eur.entry(f(1).to_owned()).or_default();
            if series.last().is_some_and(|(d, _)| *d >= date) {
                return Err(err(file, r.line, format!("{}: dates out of order", f(1))));
            }
            series.push((date, rate));
            rates.last_date = rates.last_date.max(Some(date));
        }
        Ok(rates)
    }

    /// The newest publication date in the table.
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.last_date
    }

    /// Units of `currency` per EUR on `day` (the latest publication on or before it) and that date.
    fn per_eur(&self, currency: &str, day: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        if currency == "EUR" {
            return Some((day, Decimal::ONE));
        }
        let series = self.per_eur.get(currency)?;
        let i = series.partition_point(|(d, _)| *d <= day);
        i.checked_sub(1).map(|i| series[i])
    }

    /// The rate from `from` to `to` on `day`; `None` when either currency has no rate on or before it.
    pub fn rate(&self, from: &str, to: &str, day: NaiveDate) -> Option<RateUsed> {
        if from == to {
            return Some(RateUsed { date: day, rate: Decimal::ONE });
        }
        let (d1, a) = self.per_eur(from, day)?;
        let (d2, b) = self.per_eur(to, day)?;
        let date = if from == "EUR" {
            d2
        } else if to == "EUR" {
            d1
        } else {
            d1.min(d2)
        };
        Some(RateUsed { date, rate: b / a })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn cross_rates_go_through_the_euro_and_take_the_latest_publication() {
        let r = Rates::parse(
            "t.csv",
            "date,currency,per_eur\n2026-01-02,GBP,0.8\n2026-01-02,USD,1.2\n2026-01-05,USD,1.25\n",
        )
        .unwrap();
        // Saturday 2026-01-03 uses Friday's rates.
        let used = r.rate("USD", "GBP", d("2026-01-03")).unwrap();
        assert_eq!((used.date, used.rate.round_dp(6)), (d("2026-01-02"), "0.666667".parse().unwrap()));
        assert_eq!(r.rate("EUR", "USD", d("2026-01-06")).unwrap().rate, "1.25".parse::<Decimal>().unwrap());
        assert!(r.rate("USD", "GBP", d("2025-12-31")).is_none(), "no rate before the first publication");
        assert!(r.rate("XXX", "USD", d("2026-01-06")).is_none());
        assert!(Rates::parse("t.csv", "h\n2026-01-05,USD,1\n2026-01-02,USD,1\n").is_err(), "dates going back");
        let bad = Rates::parse("t.csv", "h\n2026-1-05,USD,1\n").unwrap_err();
        assert!(bad.to_string().contains("\"2026-1-05\" is not YYYY-MM-DD"), "{bad}");
    }

    /// Checked against the ECB's own publication: on 2026-10-30 the reference rate was 1 EUR = the file's USD
    /// value, and a USD → EUR conversion of that many dollars is one euro.
    #[test]
    fn the_embedded_table_loads_and_converts() {
        let r = Rates::embedded().unwrap();
        let last = r.last_date().unwrap();
        assert!(last >= d("2026-10-30"), "table ends {last}");
        let usd = r.rate("EUR", "USD", last).unwrap().rate;
        assert_eq!((usd * r.rate("USD", "EUR", last).unwrap().rate).round_dp(12), Decimal::ONE);
        // The ECB's rate of the first business day of 2017 (eurofxref-hist.csv): 1 EUR = 1.0465 USD.
        assert_eq!(r.rate("EUR", "USD", d("2017-01-02")).unwrap().rate, "1.0465".parse::<Decimal>().unwrap());
    }
}
