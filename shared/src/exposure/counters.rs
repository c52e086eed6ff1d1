//! The ledger's running totals per (connection, month, region): what exposure and filing reports read instead of
//! the transactions. Pure: [`contribution`] is what one stored transaction adds, and the sync's upsert applies
//! `new − old` to the counters in the same atomic write as the transaction, so the counters always equal the sum
//! of the contributions of the stored heads (checked by [`recompute`] against a full read).
//!
//! Rules: a voided (cancelled) transaction contributes nothing; an invoice counts one transaction and its net as
//! sales; a credit note counts no transaction and its net as refunds (reports subtract it); amounts stay in the
//! document's currency (conversion happens at report time, per day, at that day's reference rate).

use crate::domain::Decimal;
use crate::ledger::{DocKind, TxnHead, TxnStatus};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A region's key when the transaction had no usable address.
pub const UNKNOWN_REGION: &str = "UNKNOWN";

/// A document's or a month's totals in one currency. Amounts are net of discounts and exclude tax.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Active invoices (the transaction count of a threshold).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub invoices: i64,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub credit_notes: i64,
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub sales: Decimal,
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub taxable_sales: Decimal,
    /// Credit notes' net (positive; reports subtract it).
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub refunds: Decimal,
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub taxable_refunds: Decimal,
    /// Tax on the documents, credit notes subtracted.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub tax_collected: Decimal,
    /// Tax our endpoint calculated, credit notes subtracted (matched documents only).
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub tax_calculated: Decimal,
    /// Documents without a matched calculation.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub uncalculated: i64,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

impl Totals {
    fn add(&mut self, o: &Totals, sign: i64) {
        let s = Decimal::from(sign);
        self.invoices += sign * o.invoices;
        self.credit_notes += sign * o.credit_notes;
        self.sales = (self.sales + s * o.sales).normalize();
        self.taxable_sales = (self.taxable_sales + s * o.taxable_sales).normalize();
        self.refunds = (self.refunds + s * o.refunds).normalize();
        self.taxable_refunds = (self.taxable_refunds + s * o.taxable_refunds).normalize();
        self.tax_collected = (self.tax_collected + s * o.tax_collected).normalize();
        self.tax_calculated = (self.tax_calculated + s * o.tax_calculated).normalize();
        self.uncalculated += sign * o.uncalculated;
    }

    /// Sales net of credit notes.
    pub fn net_sales(&self) -> Decimal {
        self.sales - self.refunds
    }

    /// Taxable sales net of credit notes.
    pub fn net_taxable(&self) -> Decimal {
        self.taxable_sales - self.taxable_refunds
    }
}

/// One day of a month: what thresholds measure, and nothing else (`[day, invoices, "net sales", "net taxable"]`
/// in the stored JSON: an exposure report reads about 36 months × regions × 31 of these).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day(pub u32, pub i64, pub Decimal, pub Decimal);

impl Day {
    pub fn day(&self) -> u32 {
        self.0
    }

    pub fn invoices(&self) -> i64 {
        self.1
    }

    /// Sales net of credit notes.
    pub fn net_sales(&self) -> Decimal {
        self.2
    }

    /// Taxable sales net of credit notes.
    pub fn net_taxable(&self) -> Decimal {
        self.3
    }
}
/// One jurisdiction of our calculations (state, county, city, district), credit notes subtracted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurisdictionTotals {
    pub jurisdiction: String,
    pub tax_type: String,
    /// Σ the amounts of the lines this jurisdiction taxed.
    pub taxable: Decimal,
    pub tax: Decimal,
}

/// A month of one region in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotals {
    pub currency: String,
    /// The month's totals (what filing reports sum).
    pub month: Totals,
    /// Days with activity, in day order (what exposure measures).
    pub days: Vec<Day>,
    /// Jurisdictions with activity, by (jurisdiction, tax type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<JurisdictionTotals>,
}

/// The stored counter of one (connection, month, region).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthCounter {
    /// `YYYY-MM`.
    pub month: String,
    /// `US-WA`, `DE`, … or [`UNKNOWN_REGION`].
    pub region: String,
    pub currencies: Vec<CurrencyTotals>,
}

/// What one transaction adds to one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub month: String,
    pub region: String,
    pub currency: String,
    /// Day of the month.
    pub day: u32,
    pub totals: Totals,
    pub jurisdictions: Vec<JurisdictionTotals>,
}

/// `YYYY-MM` of a date.
pub fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// What a stored transaction adds to the counters; `None` for a voided one (it counts nothing).
pub fn contribution(h: &TxnHead) -> Option<Contribution> {
    let t = &h.txn;
    if t.status != TxnStatus::Active {
        return None;
    }
    let credit = t.kind == DocKind::Credit;
    let sign = if credit { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
    let mut totals = Totals {
        tax_collected: sign * t.tax_total,
        tax_calculated: sign * t.tax_calculated_total.unwrap_or_default(),
        uncalculated: i64::from(t.tax_calculated_total.is_none()),
        ..Totals::default()
    };
    if credit {
        totals.credit_notes = 1;
        totals.refunds = t.net_total;
        totals.taxable_refunds = t.taxable_total;
    } else {
        totals.invoices = 1;
        totals.sales = t.net_total;
        totals.taxable_sales = t.taxable_total;
    }
    let jurisdictions = t
        .jurisdictions
        .iter()
        .map(|j| JurisdictionTotals {
            jurisdiction: j.jurisdiction.clone(),
            tax_type: j.tax_type.clone(),
            taxable: sign * j.taxable,
            tax: sign * j.tax,
        })
        .collect();
    Some(Contribution {
        month: month_of(t.event_date),
        region: t.region.clone().unwrap_or_else(|| UNKNOWN_REGION.to_owned()),
        currency: t.currency.code().to_owned(),
        day: t.event_date.day(),
        totals,
        jurisdictions,
    })
}

impl MonthCounter {
    pub fn new(month: &str, region: &str) -> MonthCounter {
        MonthCounter { month: month.to_owned(), region: region.to_owned(), currencies: Vec::new() }
    }

    /// Adds (`sign` 1) or removes (`sign` −1) a contribution of this month and region; entries that fall to zero
    /// are dropped, so a counter equals the sum of what is in it whatever the order of changes.
    pub fn apply(&mut self, c: &Contribution, sign: i64) {
        debug_assert!(c.month == self.month && c.region == self.region);
        let cur = match self.currencies.iter().position(|x| x.currency == c.currency) {
            Some(i) => &mut self.currencies[i],
            None => {
                self.currencies.push(CurrencyTotals { currency: c.currency.clone(), ..CurrencyTotals::default() });
                self.currencies.sort_by(|a, b| a.currency.cmp(&b.currency));
                let i = self.currencies.iter().position(|x| x.currency == c.currency).unwrap_or_default();
                &mut self.currencies[i]
            }
        };
        cur.month.add(&c.totals, sign);
        let s = Decimal::from(sign);
        let (net, taxable) = (s * c.totals.net_sales(), s * c.totals.net_taxable());
        match cur.days.binary_search_by_key(&c.day, Day::day) {
            Ok(i) => {
                let d = &mut cur.days[i];
                d.1 += sign * c.totals.invoices;
                d.2 = (d.2 + net).normalize();
                d.3 = (d.3 + taxable).normalize();
            }
            Err(i) => cur.days.insert(i, Day(c.day, sign * c.totals.invoices, net.normalize(), taxable.normalize())),
        }
        for j in &c.jurisdictions {
            let key = (&j.jurisdiction, &j.tax_type);
            match cur.jurisdictions.binary_search_by(|x| (&x.jurisdiction, &x.tax_type).cmp(&key)) {
                Ok(i) => {
                    cur.jurisdictions[i].taxable += s * j.taxable;
                    cur.jurisdictions[i].tax += s * j.tax;
                }
                Err(i) => cur
                    .jurisdictions
                    .insert(i, JurisdictionTotals { taxable: s * j.taxable, tax: s * j.tax, ..j.clone() }),
            }
        }
        cur.days.retain(|d| !(d.1 == 0 && d.2.is_zero() && d.3.is_zero()));
        for j in &mut cur.jurisdictions {
            j.taxable = j.taxable.normalize();
            j.tax = j.tax.normalize();
        }
        cur.jurisdictions.retain(|j| !(j.taxable.is_zero() && j.tax.is_zero()));
        self.currencies.retain(|c| !(c.days.is_empty() && c.jurisdictions.is_empty() && c.month == Totals::default()));
    }

    /// Nothing left in it (the store deletes such an item).
    pub fn is_empty(&self) -> bool {
        self.currencies.is_empty()
    }
}

/// The counter changes of replacing `old` by `new` (either may be absent or void): per (month, region), the
/// counter after the change, given the counters before it.
pub fn apply_change(
    before: &BTreeMap<(String, String), MonthCounter>,
    old: Option<&Contribution>,
    new: Option<&Contribution>,
) -> BTreeMap<(String, String), MonthCounter> {
    let mut after: BTreeMap<(String, String), MonthCounter> = BTreeMap::new();
    for (c, sign) in [(old, -1), (new, 1)] {
        let Some(c) = c else { continue };
        let key = (c.month.clone(), c.region.clone());
        let counter = after
            .entry(key.clone())
            .or_insert_with(|| before.get(&key).cloned().unwrap_or_else(|| MonthCounter::new(&c.month, &c.region)));
        counter.apply(c, sign);
    }
    after
}

/// The (month, region) counters a change touches.
pub fn touched(old: Option<&Contribution>, new: Option<&Contribution>) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> =
        [old, new].into_iter().flatten().map(|c| (c.month.clone(), c.region.clone())).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Adds one stored transaction to counters being computed from scratch.
pub fn add(all: &mut BTreeMap<(String, String), MonthCounter>, head: &TxnHead) {
    if let Some(c) = contribution(head) {
        all.entry((c.month.clone(), c.region.clone()))
            .or_insert_with(|| MonthCounter::new(&c.month, &c.region))
            .apply(&c, 1);
    }
}

/// The counters of a whole ledger computed from its transactions (the check that the kept counters are right).
pub fn recompute<'a>(heads: impl IntoIterator<Item = &'a TxnHead>) -> BTreeMap<(String, String), MonthCounter> {
    let mut all: BTreeMap<(String, String), MonthCounter> = BTreeMap::new();
    for h in heads {
        add(&mut all, h);
    }
    all.retain(|_, c| !c.is_empty());
    all
}
