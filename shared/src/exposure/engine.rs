//! Exposure: for each jurisdiction with a registration threshold, how far the org's sales are toward it, whether
//! and when they crossed it, and from when registration is required (pure: rules, rates and counters in, rows out).
//!
//! The rules, in the words of `../shared/research/economic-nexus.md` §4:
//! - Transactions are invoices (the counters count one per active invoice, none per credit note or void).
//! - The amount is the rule's base: gross or retail sales (exempt included), or taxable sales only; credit notes
//!   reduce it on their own date. Tax itself is never in it.
//! - Each day's sales convert into the threshold's currency at that day's reference rate ([`super::fx`]).
//! - Every day is judged by the rule in force on it, so a window that spans a rule change (a state dropping its
//!   200-transaction test) meets the old test before the change and only the new one after it.
//! - "Crossed" is the first day a test was met; "registration required from" follows from it by the rule's
//!   `registration_due`; they are different dates.
//! - The org's origin (where it is established) is physical presence: registration is required there at any level.

use super::counters::MonthCounter;
use super::fx::Rates;
use super::rules::{Due, Period, Rule, Rules, SalesBase};
use crate::domain::Decimal;
use crate::ledger::TxnHead;
use crate::tax::{EU27, Registration};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Default share of a threshold from which a jurisdiction is "approaching" (peers use 75–85 %).
pub const APPROACHING_PERCENT: u32 = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The org holds a registration in force on the date.
    Registered,
    /// A test was met (or the org is established there) and the org is not registered.
    Exposed,
    /// At least [`APPROACHING_PERCENT`] of the way in the current measurement window.
    Approaching,
    Below,
}

/// What the org tells us beyond its sales.
#[derive(Debug, Clone, Default)]
pub struct Org<'a> {
    pub registrations: &'a [Registration],
    /// ISO country of the org's origin address (where it is established), if known.
    pub origin_country: Option<String>,
    /// `US-CA`-style region of the origin, if in the US or Canada.
    pub origin_region: Option<String>,
}

/// One jurisdiction's exposure on a date. Amounts are in the threshold's currency, rounded to cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub jurisdiction: String,
    pub status: Status,
    pub currency: String,
    pub threshold_amount: Decimal,
    pub threshold_transactions: Option<u64>,
    /// `amount`, `or`, `and`.
    pub combine: &'static str,
    pub period: &'static str,
    /// The current measurement window (its `to` is the date asked about, or the window's last day).
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    /// Sales in the current window, on the rule's base, net of credit notes.
    pub sales: Decimal,
    pub transactions: u64,
    /// Progress toward the tests in the current window (the larger share for `or`, the smaller for `and`).
    pub percent: Decimal,
    /// The first day a test was met (within the previous calendar year or later).
    pub crossed_on: Option<NaiveDate>,
    /// Sales and transactions of the crossing window before `crossed_on` (to name the crossing invoice).
    #[serde(skip)]
    pub before_crossing: Option<(Decimal, u64)>,
    /// The first day of the window the test was met in.
    pub crossed_window_from: Option<NaiveDate>,
    pub registration_required_from: Option<NaiveDate>,
    /// Registration is required because the org is established there, at any level of sales.
    pub physical_presence: bool,
    pub registered: bool,
    /// The rule applied today: its first day, whether its source was confirmed, its sources and notes.
    pub rule_from: NaiveDate,
    pub rule_verified: bool,
    pub sources: String,
    pub notes: String,
    /// Monthly sales of the last 12 months, oldest first (the sparkline).
    pub trend: Vec<Decimal>,
    /// Currencies of sales that could not be converted (no reference rate on their day): left out of the sums.
    pub unconverted_currencies: Vec<String>,
}

/// One day of a jurisdiction's sales in the threshold's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Day {
    amount: Decimal,
    invoices: u64,
}

/// Does `region` (`US-WA`, `DE`, `CA-QC`, `UNKNOWN`) fall in `jurisdiction`?
pub fn covers(jurisdiction: &str, region: &str) -> bool {
    match jurisdiction {
        "EU" | "EU-NONEU" => EU27.contains(&region),
        j if j.contains('-') => region == j,
        j => region == j || region.strip_prefix(j).is_some_and(|r| r.starts_with('-')),
    }
}

/// Is the org registered for `jurisdiction` on `day`?
fn registered(regs: &[Registration], jurisdiction: &str, day: NaiveDate) -> bool {
    let (country, region) = match jurisdiction {
        "EU" | "EU-NONEU" => ("EU", None),
        j => match j.split_once('-') {
            Some((c, r)) => (c, Some(r)),
            None => (j, None),
        },
    };
    regs.iter().any(|r| {
        r.country.eq_ignore_ascii_case(country)
            && r.region.as_deref().map(str::to_ascii_uppercase).as_deref() == region
            && r.effective_from <= day
            && r.effective_to.is_none_or(|t| day < t)
    })
}

/// Which of the EU rows applies: sellers established in the EU have the €10,000 threshold, others none.
fn applies(jurisdiction: &str, org: &Org<'_>) -> bool {
    let in_eu = org.origin_country.as_deref().is_some_and(|c| EU27.contains(&c));
    match jurisdiction {
        "EU" => in_eu,
        "EU-NONEU" => !in_eu,
        _ => true,
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(d)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The first day of the month on or after `d`.
fn first_on_or_after(d: NaiveDate) -> NaiveDate {
    if d.day() == 1 { d } else { add_months(first_of_month(d), 1) }
}

/// When registration becomes due for a test met on `met`.
pub fn due_date(due: Due, met: NaiveDate) -> NaiveDate {
    let month = first_of_month(met);
    match due {
        Due::NextTransaction | Due::Unknown => met,
        Due::FirstOfNextMonth => add_months(month, 1),
        Due::FirstOfMonthAfter30Days => first_on_or_after(met + Days::new(30)),
        Due::FirstOfSecondMonth => add_months(month, 2),
        Due::FirstOfThirdMonth => add_months(month, 3),
        Due::FirstOfFourthMonth => add_months(month, 4),
        Due::FirstOfMonthAfter90Days => add_months(first_of_month(met + Days::new(90)), 1),
        Due::NextJanuary => ymd(met.year() + 1, 1, 1),
        Due::NextApril => {
            let april = ymd(met.year(), 4, 1);
            if met < april { april } else { ymd(met.year() + 1, 4, 1) }
        }
        Due::NextOctober => {
            let october = ymd(met.year(), 10, 1);
            if met < october { october } else { ymd(met.year() + 1, 10, 1) }
        }
        Due::NextQuarter => {
            let q = (met.month0() / 3 + 1) * 3;
            if q == 12 { ymd(met.year() + 1, 1, 1) } else { ymd(met.year(), q + 1, 1) }
        }
        Due::Within30Days => met + Days::new(30),
        Due::Within60Days => met + Days::new(60),
    }
}

/// The days a test is taken on in `[from, to]` for the periods measured only on set days (quarter ends, the
/// end of September, New York's quarter ends), each with its window's first day.
fn test_days(period: Period, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, NaiveDate)> {
    let ends: &[u32] = match period {
        Period::Rolling12MonthsQuarterEnd => &[3, 6, 9, 12],
        Period::TwelveMonthsToSeptember => &[9],
        Period::FourQuartersMarchToFebruary => &[2, 5, 8, 11],
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for year in from.year()..=to.year() {
        for &m in ends {
            let last = add_months(ymd(year, m, 1), 1).pred_opt().unwrap_or(NaiveDate::MIN);
            if last >= from && last <= to {
                out.push((last.succ_opt().map_or(last, |d| d - Months::new(12)), last));
            }
        }
    }
    out
}

/// Prefix sums over a jurisdiction's days, for window totals in O(1).
struct Series {
    start: NaiveDate,
    /// `sums[i]` = totals of the days before `start + i`.
    sums: Vec<(Decimal, u64)>,
}

impl Series {
    fn new(start: NaiveDate, end: NaiveDate, days: &BTreeMap<NaiveDate, Day>) -> Series {
        let n = usize::try_from((end - start).num_days().max(0) + 1).unwrap_or(0);
        let mut sums = Vec::with_capacity(n + 1);
        let (mut a, mut c) = (Decimal::ZERO, 0u64);
        sums.push((a, c));
        let mut it = days.range(start..=end).peekable();
        for i in 0..n {
            let day = start + Days::new(i as u64);
            while let Some((d, v)) = it.peek() {
                if **d > day {
                    break;
                }
                a += v.amount;
                c += v.invoices;
                it.next();
            }
            sums.push((a, c));
        }
        Series { start, sums }
    }

    fn index(&self, d: NaiveDate) -> usize {
        usize::try_from((d - self.start).num_days().max(0)).unwrap_or(0).min(self.sums.len() - 1)
    }

    /// Totals of `[from, to]` (both clamped to the series).
    fn total(&self, from: NaiveDate, to: NaiveDate) -> (Decimal, u64) {
        if to < from || to < self.start {
            return (Decimal::ZERO, 0);
        }
        let (hi, lo) = (self.sums[self.index(to) + 1], self.sums[self.index(from.max(self.start))]);
        (hi.0 - lo.0, hi.1 - lo.1)
    }
}

/// A test met: the day, the window's first day, and the window's totals before that day.
struct Met {
    day: NaiveDate,
    window_from: NaiveDate,
    before: (Decimal, u64),
}

/// The first day in `[span_from, as_of]` on which a test of the rule in force that day is met.
fn first_met(rules: &[Rule], period: Period, s: &Series, span_from: NaiveDate, as_of: NaiveDate) -> Option<Met> {
    let rule_on = |d: NaiveDate| rules.iter().find(|r| r.in_force(d));
    let check = |window_from: NaiveDate, day: NaiveDate| {
        let rule = rule_on(day)?;
        let (a, c) = s.total(window_from, day);
        let before = s.total(window_from, day.pred_opt()?);
        rule.met(a, c).then_some(Met { day, window_from, before })
    };
    // Periods measured every day: each day's window starts on January 1 of its year, or 12 months back.
    let daily_window: Option<fn(NaiveDate) -> Option<NaiveDate>> = match period {
        Period::CalendarYear | Period::PreviousCalendarYear => Some(|d| Some(ymd(d.year(), 1, 1))),
        Period::Rolling12Months => Some(|d| Some(d.succ_opt()? - Months::new(12))),
        _ => None,
    };
    if let Some(window_from) = daily_window {
        let mut day = span_from;
        while day <= as_of {
            if let Some(m) = check(window_from(day)?, day) {
                return Some(m);
            }
            day = day.succ_opt()?;
        }
        return None;
    }
    match period {
        Period::BasePeriodTwoYears => {
            let year = as_of.year() - 2;
            check(ymd(year, 1, 1), ymd(year, 12, 31))
        }
        p => test_days(p, span_from, as_of).into_iter().find_map(|(from, day)| check(from, day)),
    }
}

/// The window that measures progress on `as_of`.
fn current_window(period: Period, as_of: NaiveDate) -> (NaiveDate, NaiveDate) {
    match period {
        Period::CalendarYear | Period::PreviousCalendarYear => (ymd(as_of.year(), 1, 1), as_of),
        Period::TwelveMonthsToSeptember => {
            let y = if as_of.month() >= 10 { as_of.year() } else { as_of.year() - 1 };
            (ymd(y, 10, 1), as_of)
        }
        Period::BasePeriodTwoYears => (ymd(as_of.year() - 2, 1, 1), ymd(as_of.year() - 2, 12, 31)),
        _ => (as_of.succ_opt().map_or(as_of, |d| d - Months::new(12)), as_of),
    }
}

/// The first month the exposure of `as_of` reads (`YYYY-MM`): January two years back (a 12-month window ending
/// early in the previous year starts there, and Japan's base period is that year).
pub fn first_month(as_of: NaiveDate) -> String {
    format!("{:04}-01", as_of.year() - 2)
}

/// The rule's base of a day's (or a document's) sales, net of credit notes: taxable sales only, or every sale.
fn base_amount(rule: &Rule, net_sales: Decimal, net_taxable: Decimal) -> Decimal {
    if rule.base == SalesBase::Taxable || !rule.exempt_sales_count { net_taxable } else { net_sales }
}

/// Each jurisdiction's exposure on `as_of`, from the counters of the months since [`first_month`].
pub fn evaluate(
    rules: &Rules,
    rates: &Rates,
    counters: &[MonthCounter],
    org: &Org<'_>,
    as_of: NaiveDate,
    approaching_percent: Decimal,
) -> Vec<Exposure> {
    let span_from = ymd(as_of.year() - 1, 1, 1);
    let series_from = ymd(as_of.year() - 2, 1, 1);
    let mut out = Vec::new();
    for jurisdiction in rules.jurisdictions() {
        if !applies(jurisdiction, org) {
            continue;
        }
        let history = rules.history(jurisdiction);
        let Some(rule) = rules.in_force(jurisdiction, as_of).or_else(|| history.last()) else { continue };
        let mut days: BTreeMap<NaiveDate, Day> = BTreeMap::new();
        let mut unconverted = BTreeSet::new();
        for counter in counters.iter().filter(|c| covers(jurisdiction, &c.region)) {
            let Some(month) = crate::tax::parse_ymd(&format!("{}-01", counter.month)) else { continue };
            for cur in &counter.currencies {
                for d in &cur.days {
                    let Some(date) = month.with_day(d.day()) else { continue };
                    if date > as_of || date < series_from {
                        continue;
                    }
                    let Some(rate) = rates.rate(&cur.currency, &rule.currency, date) else {
                        unconverted.insert(cur.currency.clone());
                        continue;
                    };
                    let e = days.entry(date).or_default();
                    e.amount += base_amount(rule, d.net_sales(), d.net_taxable()) * rate.rate;
                    e.invoices += u64::try_from(d.invoices()).unwrap_or(0);
                }
            }
        }
        let series = Series::new(series_from, as_of, &days);
        let met = first_met(history, rule.period, &series, span_from, as_of);
        let (window_from, window_to) = current_window(rule.period, as_of);
        let (sales, transactions) = series.total(window_from, window_to);
        let percent = rule.progress(sales, transactions);
        let physical_presence = [&org.origin_region, &org.origin_country]
            .into_iter()
            .flatten()
            .any(|r| jurisdiction == r.as_str() || (jurisdiction == "EU" && EU27.contains(&r.as_str())));
        let is_registered = registered(org.registrations, jurisdiction, as_of);
        let required_from = match &met {
            Some(m) if rule.period == Period::BasePeriodTwoYears => Some(ymd(m.day.year() + 2, 1, 1)),
            Some(m) => {
                let due_rule = history.iter().find(|r| r.in_force(m.day)).map_or(rule.due, |r| r.due);
                Some(due_date(due_rule, m.day))
            }
            None => None,
        };
        let status = if is_registered {
            Status::Registered
        } else if met.is_some() || physical_presence {
            Status::Exposed
        } else if percent >= approaching_percent {
            Status::Approaching
        } else {
            Status::Below
        };
        let trend = (0..12u32)
            .rev()
            .map(|back| {
                let month = first_of_month(as_of) - Months::new(back);
                let end = add_months(month, 1).pred_opt().unwrap_or(month).min(as_of);
                series.total(month, end).0.round_dp(2)
            })
            .collect();
        out.push(Exposure {
            jurisdiction: jurisdiction.to_owned(),
            status,
            currency: rule.currency.clone(),
            threshold_amount: rule.amount,
            threshold_transactions: rule.transactions,
            combine: rule.combine.as_str(),
            period: rule.period.as_str(),
            window_from,
            window_to,
            sales: sales.round_dp(2),
            transactions,
            percent,
            crossed_on: met.as_ref().map(|m| m.day),
            before_crossing: met.as_ref().map(|m| m.before),
            crossed_window_from: met.as_ref().map(|m| m.window_from),
            registration_required_from: required_from,
            physical_presence,
            registered: is_registered,
            rule_from: rule.from,
            rule_verified: rule.verified,
            sources: rule.sources.clone(),
            notes: rule.notes.clone(),
            trend,
            unconverted_currencies: unconverted.into_iter().collect(),
        });
    }
    out
}

/// The document that crossed `e`'s threshold, among the transactions of its `crossed_on` day (in the ledger's
/// by-date order): the first after which the rule's test is met, counting from the window's totals before that
/// day. `None` for periods measured on set days (a quarter end is not the day of a sale) or when no document of
/// the day is in the jurisdiction.
pub fn crossing_document<'h>(
    rules: &Rules,
    rates: &Rates,
    e: &Exposure,
    day_docs: &'h [TxnHead],
) -> Option<&'h TxnHead> {
    let day = e.crossed_on?;
    let (mut amount, mut count) = e.before_crossing?;
    let rule = rules.in_force(&e.jurisdiction, day)?;
    if !matches!(rule.period, Period::CalendarYear | Period::PreviousCalendarYear | Period::Rolling12Months) {
        return None;
    }
    for h in day_docs {
        let t = &h.txn;
        let Some(c) = super::counters::contribution(h) else { continue };
        if t.event_date != day || !covers(&e.jurisdiction, &c.region) {
            continue;
        }
        let rate = rates.rate(&c.currency, &rule.currency, day)?;
        amount += base_amount(rule, c.totals.net_sales(), c.totals.net_taxable()) * rate.rate;
        count += u64::try_from(c.totals.invoices).unwrap_or(0);
        if rule.met(amount, count) {
            return Some(h);
        }
    }
    None
}
