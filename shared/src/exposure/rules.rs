//! Economic-nexus threshold rules, read from `data/nexus/thresholds.csv` (one dated row per jurisdiction and
//! rule; see `data/nexus/README.md` for every column). A past period is judged by the row in force on the day
//! the period is measured, so a state that dropped its 200-transaction test keeps both rows.

use crate::domain::Decimal;
use crate::tax::DataError;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// `gt` (more than) or `ge` (at least).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
}

impl Op {
    /// Does `value` meet a test of `limit` under this comparator?
    pub fn met(self, value: Decimal, limit: Decimal) -> bool {
        match self {
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
        }
    }
}

/// How the amount and the transaction tests combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The amount test alone.
    Amount,
    Or,
    And,
}

impl Combine {
    const ALL: [Combine; 3] = [Combine::Amount, Combine::Or, Combine::And];

    /// The data file's (and the API's) word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Combine::Amount => "amount",
            Combine::Or => "or",
            Combine::And => "and",
        }
    }
}

/// Which sales count toward the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesBase {
    /// Every sale, taxable or exempt.
    Gross,
    /// Retail sales (sales for resale out). The ledger cannot tell a resale from another exempt sale, so this
    /// counts like gross: it over-states, never under-states, exposure.
    Retail,
    /// Taxable sales only.
    Taxable,
}

/// The measurement period of a test (see `data/nexus/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// The previous or the current calendar year.
    CalendarYear,
    /// The previous calendar year only.
    PreviousCalendarYear,
    /// Any 12 consecutive months.
    Rolling12Months,
    /// The 12 months ending at each calendar quarter end.
    Rolling12MonthsQuarterEnd,
    /// Connecticut: the 12 months ending on September 30.
    TwelveMonthsToSeptember,
    /// New York: the four sales-tax quarters ending at the end of February, May, August or November.
    FourQuartersMarchToFebruary,
    /// Japan: the calendar year two years back.
    BasePeriodTwoYears,
}

impl Period {
    const ALL: [Period; 7] = [
        Period::CalendarYear,
        Period::PreviousCalendarYear,
        Period::Rolling12Months,
        Period::Rolling12MonthsQuarterEnd,
        Period::TwelveMonthsToSeptember,
        Period::FourQuartersMarchToFebruary,
        Period::BasePeriodTwoYears,
    ];

    /// The data file's (and the API's) word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::CalendarYear => "calendar_year",
            Period::PreviousCalendarYear => "previous_calendar_year",
            Period::Rolling12Months => "rolling_12_months",
            Period::Rolling12MonthsQuarterEnd => "rolling_12_months_quarter_end",
            Period::TwelveMonthsToSeptember => "twelve_months_to_september",
            Period::FourQuartersMarchToFebruary => "four_quarters_march_to_february",
            Period::BasePeriodTwoYears => "base_period_two_years",
        }
    }
}

/// When registration becomes due after the day a test is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    NextTransaction,
    FirstOfNextMonth,
    FirstOfMonthAfter30Days,
    FirstOfSecondMonth,
    FirstOfThirdMonth,
    FirstOfFourthMonth,
    FirstOfMonthAfter90Days,
    NextJanuary,
    NextApril,
    NextOctober,
    NextQuarter,
    Within30Days,
    Within60Days,
    /// The source does not say: reported as due on the day the test was met (the earliest it could be).
    Unknown,
}

/// One rule of one jurisdiction, in force on `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub jurisdiction: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// ISO code of the threshold's currency.
    pub currency: String,
    pub amount: Decimal,
    pub amount_op: Op,
    pub transactions: Option<u64>,
    pub transactions_op: Option<Op>,
    pub combine: Combine,
    pub base: SalesBase,
    pub exempt_sales_count: bool,
    /// `in`, `out` or `unknown`: informational (Sequence bills directly; the ledger holds no marketplace sales).
    pub marketplace_sales: String,
    pub period: Period,
    pub due: Due,
    pub verified: bool,
    pub sources: String,
    pub notes: String,
}

impl Rule {
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|t| day < t)
    }

    /// Are the tests met by `amount` (in the rule's currency) and `transactions`?
    pub fn met(&self, amount: Decimal, transactions: u64) -> bool {
        let by_amount = self.amount_op.met(amount, self.amount);
        let by_count = match (self.transactions, self.transactions_op) {
            (Some(n), Some(op)) => op.met(Decimal::from(transactions), Decimal::from(n)),
            _ => false,
        };
        match self.combine {
            Combine::Amount => by_amount,
            Combine::Or => by_amount || by_count,
            Combine::And => by_amount && by_count,
        }
    }

    /// How far toward the tests, in percent to one decimal: the larger share for `or`, the smaller for `and`.
    pub fn progress(&self, amount: Decimal, transactions: u64) -> Decimal {
        let share = |v: Decimal, limit: Decimal| {
            if limit.is_zero() {
                if v > Decimal::ZERO { Decimal::ONE_HUNDRED } else { Decimal::ZERO }
            } else {
                (v * Decimal::ONE_HUNDRED / limit).round_dp(1)
            }
        };
        let a = share(amount, self.amount);
        let count = self.transactions.map(|n| share(Decimal::from(transactions), Decimal::from(n)));
        let mut p = match (self.combine, count) {
            (Combine::Or, Some(c)) => a.max(c),
            (Combine::And, Some(c)) => a.min(c),
            _ => a,
        };
        p.rescale(1);
        p
    }
}

/// Every jurisdiction's rules, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    by_jurisdiction: BTreeMap<String, Vec<Rule>>,
}

const HEADER: &[&str] = &[
    "jurisdiction",
    "effective_from",
    "effective_to",
    "currency",
    "amount",
    "amount_op",
    "transactions",
    "transactions_op",
    "combine",
    "sales_base",
    "exempt_sales",
    "marketplace_sales",
    "period",
    "registration_due",
    "status",
    "sources",
    "notes",
];

fn err(file: &str, line: usize, message: impl Into<String>) -> DataError {
    DataError { file: file.to_owned(), line, message: message.into() }
}

fn op(s: &str) -> Option<Op> {
    match s {
        "gt" => Some(Op::Gt),
        "ge" => Some(Op::Ge),
        _ => None,
    }
}

fn period(s: &str) -> Option<Period> {
    Period::ALL.into_iter().find(|p| p.as_str() == s)
}

fn due(s: &str) -> Option<Due> {
    Some(match s {
        "next_transaction" => Due::NextTransaction,
        "first_of_next_month" => Due::FirstOfNextMonth,
        "first_of_month_after_30_days" => Due::FirstOfMonthAfter30Days,
        "first_of_second_month" => Due::FirstOfSecondMonth,
        "first_of_third_month" => Due::FirstOfThirdMonth,
        "first_of_fourth_month" => Due::FirstOfFourthMonth,
        "first_of_month_after_90_days" => Due::FirstOfMonthAfter90Days,
        "next_january" => Due::NextJanuary,
        "next_april" => Due::NextApril,
        "next_october" => Due::NextOctober,
        "next_quarter" => Due::NextQuarter,
        "within_30_days" => Due::Within30Days,
        "within_60_days" => Due::Within60Days,
        "unknown" => Due::Unknown,
        _ => return None,
    })
}

impl Rules {
    /// The rules embedded from `data/nexus/thresholds.csv`.
    pub fn embedded() -> Result<Rules, DataError> {
        let (file, text) = crate::tax::embedded_file("nexus/thresholds.csv")
            .ok_or_else(|| err("nexus/thresholds.csv", 0, "file missing"))?;
        Rules::parse(file, text)
    }

    /// Parses and checks a thresholds file: exact header, every value in its vocabulary, and per jurisdiction
    /// ordered, non-overlapping date ranges.
    pub fn parse(file: &str, text: &str) -> Result<Rules, DataError> {
        let parsed = crate::tax::csv_parse(file, text)?;
        let records = parsed.records();
        let Some((head, rows)) = records.split_first() else { return Err(err(file, 0, "empty file")) };
        if !head.fields.iter().eq(HEADER.iter().copied()) {
            return Err(err(file, head.line, format!("header must be {}", HEADER.join(","))));
        }
        let mut by_jurisdiction: BTreeMap<String, Vec<Rule>> = BTreeMap::new();
        for r in rows {
            let line = r.line;
            let f = |i: usize| r.fields.get(i).unwrap_or("").trim();
            if r.fields.len() != HEADER.len() {
                return Err(err(file, line, format!("{} columns, {} expected", r.fields.len(), HEADER.len())));
            }
            let date = |i: usize| {
                crate::tax::parse_ymd(f(i))
                    .ok_or_else(|| err(file, line, format!("{}: {:?} is not YYYY-MM-DD", HEADER[i], f(i))))
            };
            let bad = |i: usize| err(file, line, format!("{}: unknown value {:?}", HEADER[i], f(i)));
            let to = if f(2).is_empty() { None } else { Some(date(2)?) };
            let amount: Decimal = f(4).parse().map_err(|_| bad(4))?;
            let transactions = if f(6).is_empty() { None } else { Some(f(6).parse::<u64>().map_err(|_| bad(6))?) };
            let transactions_op = if f(7).is_empty() { None } else { Some(op(f(7)).ok_or_else(|| bad(7))?) };
            let combine = Combine::ALL.into_iter().find(|c| c.as_str() == f(8)).ok_or_else(|| bad(8))?;
            if (combine == Combine::Amount) != transactions.is_none()
                || transactions.is_some() != transactions_op.is_some()
            {
                return Err(err(file, line, "combine must be `amount` exactly when there is no transaction test"));
            }
            let rule = Rule {
                jurisdiction: f(0).to_owned(),
                from: date(1)?,
                to,
                currency: f(3).to_owned(),
                amount,
                amount_op: op(f(5)).ok_or_else(|| bad(5))?,
                transactions,
                transactions_op,
                combine,
                base: match f(9) {
                    "gross" => SalesBase::Gross,
                    "retail" => SalesBase::Retail,
                    "taxable" => SalesBase::Taxable,
                    _ => return Err(bad(9)),
                },
                exempt_sales_count: match f(10) {
                    "in" => true,
                    "out" => false,
                    _ => return Err(bad(10)),
                },
                marketplace_sales: match f(11) {
                    v @ ("in" | "out" | "unknown") => v.to_owned(),
                    _ => return Err(bad(11)),
                },
                period: period(f(12)).ok_or_else(|| bad(12))?,
                due: due(f(13)).ok_or_else(|| bad(13))?,
                verified: match f(14) {
                    "verified" => true,
                    "uncertain" => false,
                    _ => return Err(bad(14)),
                },
                sources: f(15).to_owned(),
                notes: f(16).to_owned(),
            };
            if rule.jurisdiction.is_empty() || amount < Decimal::ZERO || rule.to.is_some_and(|t| t <= rule.from) {
                return Err(err(file, line, "jurisdiction empty, negative amount or empty date range"));
            }
            if crate::domain::Currency::parse(&rule.currency).is_err() {
                return Err(bad(3));
            }
            let list = by_jurisdiction.entry(rule.jurisdiction.clone()).or_default();
            if let Some(prev) = list.last()
                && prev.to.is_none_or(|t| t > rule.from)
            {
                return Err(err(
                    file,
                    line,
                    format!("{}: overlaps the previous row (rows oldest first)", rule.jurisdiction),
                ));
            }
            list.push(rule);
        }
        Ok(Rules { by_jurisdiction })
    }

    /// Every jurisdiction with at least one rule.
    pub fn jurisdictions(&self) -> impl Iterator<Item = &str> {
        self.by_jurisdiction.keys().map(String::as_str)
    }

    /// The rule of `jurisdiction` in force on `day`.
    pub fn in_force(&self, jurisdiction: &str, day: NaiveDate) -> Option<&Rule> {
        self.by_jurisdiction.get(jurisdiction)?.iter().find(|r| r.in_force(day))
    }

    /// Every rule of `jurisdiction`, oldest first.
    pub fn history(&self, jurisdiction: &str) -> &[Rule] {
        self.by_jurisdiction.get(jurisdiction).map_or(&[], Vec::as_slice)
    }
}
