//! Report queries over the by-date index: transactions of one connection filtered by period (event
//! date), region, type and status with cursor pagination, and a summary per region and currency.
//! The aggregation itself ([`summarize`]) is pure.

use super::model::{TxnHead, TxnStatus, TxnType};
use super::region::region_matches;
use super::repo::{Ledger, LedgerError};
use crate::domain::{Currency, Decimal};
use crate::layout;
use crate::store::item::cursor_of;
use crate::store::record;
use crate::store::{Index, ItemStore, Query, SkRange};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which transactions a report covers. Empty = everything of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnFilter {
    /// Event date from (inclusive).
    pub from: Option<NaiveDate>,
    /// Event date to (inclusive).
    pub to: Option<NaiveDate>,
    /// `US` (every US state), `US-MN`, `DE`, or `UNKNOWN` (no usable address).
    pub region: Option<String>,
    pub txn_type: Option<TxnType>,
    pub status: Option<TxnStatus>,
}

impl TxnFilter {
    pub fn matches(&self, h: &TxnHead) -> bool {
        self.from.is_none_or(|f| h.txn.event_date >= f)
            && self.to.is_none_or(|t| h.txn.event_date <= t)
            && self.region.as_deref().is_none_or(|r| region_matches(h.txn.region.as_deref(), r))
            && self.txn_type.is_none_or(|t| h.txn.txn_type == t)
            && self.status.is_none_or(|s| h.txn.status == s)
    }
}

/// One page of a report listing; pass `next` back to continue.
#[derive(Debug, Clone, Default)]
pub struct TxnPage {
    /// Heads in event-date order (lines are inline unless the transaction is chunked).
    pub items: Vec<TxnHead>,
    pub next: Option<String>,
}

/// Totals of active transactions in one region and currency. Refunds count negative; cancelled
/// (voided) transactions are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionSummary {
    /// Region code, or `UNKNOWN`.
    pub region: String,
    pub currency: Currency,
    pub count: u64,
    pub sales_count: u64,
    pub refund_count: u64,
    /// Σ net (pre-tax) amounts, sales minus refunds.
    pub gross_sales: Decimal,
    pub taxable_sales: Decimal,
    /// Σ tax Sequence put on the documents.
    pub tax_collected: Decimal,
    /// Σ tax our endpoint calculated (matched transactions only).
    pub tax_calculated: Decimal,
    /// Transactions without a matched calculation.
    pub uncalculated_count: u64,
}

impl RegionSummary {
    /// Adds `rows` (another page's totals) into `into`, row by (region, currency); keeps `into` sorted like a page.
    pub fn merge(into: &mut Vec<RegionSummary>, rows: Vec<RegionSummary>) {
        for r in rows {
            match into.iter_mut().find(|x| x.region == r.region && x.currency == r.currency) {
                Some(x) => {
                    x.count += r.count;
                    x.sales_count += r.sales_count;
                    x.refund_count += r.refund_count;
                    x.gross_sales += r.gross_sales;
                    x.taxable_sales += r.taxable_sales;
                    x.tax_collected += r.tax_collected;
                    x.tax_calculated += r.tax_calculated;
                    x.uncalculated_count += r.uncalculated_count;
                }
                None => into.push(r),
            }
        }
        into.sort_by(|a, b| (&a.region, a.currency.code()).cmp(&(&b.region, b.currency.code())));
    }
}

/// Running per-(region, currency) totals; feed heads with [`Summarizer::add`] (pure).
#[derive(Debug, Default)]
pub struct Summarizer {
    acc: BTreeMap<(String, String), RegionSummary>,
}

impl Summarizer {
    pub fn add(&mut self, h: &TxnHead) {
        let t = &h.txn;
        if t.status != TxnStatus::Active {
            return;
        }
        let region = t.region.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
        let e = self.acc.entry((region.clone(), t.currency.code().to_owned())).or_insert_with(|| RegionSummary {
            region,
            currency: t.currency,
            count: 0,
            sales_count: 0,
            refund_count: 0,
            gross_sales: Decimal::ZERO,
            taxable_sales: Decimal::ZERO,
            tax_collected: Decimal::ZERO,
            tax_calculated: Decimal::ZERO,
            uncalculated_count: 0,
        });
        let sign = match t.txn_type {
            TxnType::Sale => {
                e.sales_count += 1;
                Decimal::ONE
            }
            TxnType::Refund => {
                e.refund_count += 1;
                Decimal::NEGATIVE_ONE
            }
        };
        e.count += 1;
        e.gross_sales += sign * t.net_total;
        e.taxable_sales += sign * t.taxable_total;
        e.tax_collected += sign * t.tax_total;
        match t.tax_calculated_total {
            Some(c) => e.tax_calculated += sign * c,
            None => e.uncalculated_count += 1,
        }
    }

    /// Totals sorted by region, then currency.
    pub fn finish(self) -> Vec<RegionSummary> {
        self.acc.into_values().collect()
    }
}

/// Aggregates heads into per-(region, currency) totals (pure).
pub fn summarize<'a>(heads: impl IntoIterator<Item = &'a TxnHead>) -> Vec<RegionSummary> {
    let mut s = Summarizer::default();
    for h in heads {
        s.add(h);
    }
    s.finish()
}

impl<S: ItemStore> Ledger<'_, S> {
    fn date_query(&self, filter: &TxnFilter) -> Query {
        let pk = layout::conn_pk(self.org(), self.connection());
        let lo = filter.from.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
        // `~` sorts after every `{date}#…` index key of the last day.
        let hi = filter.to.map_or_else(|| "~".to_owned(), |d| format!("{}~", d.format("%Y-%m-%d")));
        Query {
            index: Some(Index::ByDate),
            pk,
            sk: SkRange::Between(lo, hi),
            after: None,
            limit: 100,
            descending: false,
        }
    }

    /// Up to `limit` transactions matching `filter`, in event-date order, after `cursor`.
    pub async fn query_transactions(
        &self,
        filter: &TxnFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TxnPage, LedgerError> {
        let limit = limit.clamp(1, 1_000);
        let mut q = self.date_query(filter);
        q.after = cursor.map(str::to_owned);
        q.limit = limit;
        let mut out = TxnPage::default();
        loop {
            let page = self.store().query(&q).await?;
            let mut consumed_all = true;
            for item in &page.items {
                let head: TxnHead = record::decode(item)?;
                if filter.matches(&head) {
                    out.items.push(head);
                }
                if out.items.len() == limit {
                    let last_of_page = page.items.last().is_some_and(|l| l.key == item.key);
                    if !last_of_page || page.next.is_some() {
                        out.next = Some(cursor_of(item, Some(Index::ByDate)));
                    }
                    consumed_all = false;
                    break;
                }
            }
            if !consumed_all {
                return Ok(out);
            }
            match page.next {
                Some(n) => q.after = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// Totals per region and currency of the next ≤ `max_transactions` transactions matching `filter`, after
    /// `cursor`, and the cursor of the rest (`None`: that was the last page). A request reads a bounded number of
    /// transactions; the whole summary is the sum of its pages ([`RegionSummary::merge`]).
    pub async fn summary_page(
        &self,
        filter: &TxnFilter,
        cursor: Option<&str>,
        max_transactions: usize,
    ) -> Result<(Vec<RegionSummary>, Option<String>), LedgerError> {
        let mut acc = Summarizer::default();
        let mut cursor = cursor.map(str::to_owned);
        let mut left = max_transactions.max(1);
        loop {
            let page = self.query_transactions(filter, cursor.as_deref(), left.min(500)).await?;
            page.items.iter().for_each(|h| acc.add(h));
            left = left.saturating_sub(page.items.len());
            match page.next {
                Some(n) if left > 0 => cursor = Some(n),
                next => return Ok((acc.finish(), next)),
            }
        }
    }

    /// Totals per region and currency of every transaction matching `filter` (every page; tests and tools).
    pub async fn summary(&self, filter: &TxnFilter) -> Result<Vec<RegionSummary>, LedgerError> {
        let mut all: Vec<RegionSummary> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (rows, next) = self.summary_page(filter, cursor.as_deref(), 5_000).await?;
            RegionSummary::merge(&mut all, rows);
            match next {
                Some(n) => cursor = Some(n),
                None => return Ok(all),
            }
        }
    }
}
