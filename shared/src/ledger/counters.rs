//! The ledger's running totals per (month, region), kept in the same atomic write as each transaction version
//! (see [`crate::exposure::counters`] for what a transaction adds). Reports read these, never the transactions:
//! a year of exposure is one range query over at most 24 months × regions items.
//!
//! A ledger written before counters existed has none: the first sync run after the upgrade builds them once from
//! the stored transactions, under its lease, and marks them ready; from then on every upsert keeps them.

use super::model::{DocKind, TxnHead};
use super::repo::{Ledger, LedgerError};
use crate::exposure::counters::{self, Contribution, MonthCounter};
use crate::layout;
use crate::store::lease::LeaseGuard;
use crate::store::record::{self, Versioned};
use crate::store::{Expect, ItemStore, Query, SkRange, WriteOp};
use std::collections::BTreeMap;

/// Writes per batch of a rebuild (plus the fencing check: DynamoDB allows 100 per transaction).
const REBUILD_BATCH: usize = 24;

/// Heads read per page when the counters are computed from the transactions.
const RECOMPUTE_PAGE: usize = 1_000;

type CounterMap = BTreeMap<(String, String), MonthCounter>;

impl<S: ItemStore> Ledger<'_, S> {
    /// The writes that move `old`'s amounts out of the counters and `new`'s in (read-modify-write, each expecting
    /// the version it read; the caller writes them with the transaction in one atomic write).
    pub(super) async fn counter_ops(
        &self,
        old: Option<&Contribution>,
        new: Option<&Contribution>,
    ) -> Result<Vec<WriteOp>, LedgerError> {
        if old == new {
            return Ok(Vec::new());
        }
        let mut before = CounterMap::new();
        let mut expects = BTreeMap::new();
        for (month, region) in counters::touched(old, new) {
            let key = layout::counter_key(self.org(), self.connection(), &month, &region);
            let cur: Option<Versioned<MonthCounter>> = record::get(self.store(), &key).await?;
            expects.insert((month.clone(), region.clone()), record::if_unchanged_or_absent(&cur));
            if let Some(c) = cur {
                before.insert((month, region), c.value);
            }
        }
        let mut ops = Vec::new();
        for ((month, region), after) in counters::apply_change(&before, old, new) {
            let key = layout::counter_key(self.org(), self.connection(), &month, &region);
            let expect = expects.get(&(month, region)).copied().unwrap_or(Expect::Absent);
            if after.is_empty() {
                if expect != Expect::Absent {
                    ops.push(WriteOp::Delete { key, expect });
                }
            } else {
                ops.push(record::put(key, &after, expect)?);
            }
        }
        Ok(ops)
    }

    /// The counters of months `from`..=`to` (`YYYY-MM`), every region, in (month, region) order.
    pub async fn counters(&self, from: &str, to: &str) -> Result<Vec<MonthCounter>, LedgerError> {
        let (lo, hi) = layout::counter_months(from, to);
        let q =
            Query { sk: SkRange::Between(lo, hi), ..Query::prefix(layout::conn_pk(self.org(), self.connection()), "") };
        Ok(record::query_all(self.store(), &q).await?)
    }

    /// Do the counters hold every stored transaction (built once after the upgrade)?
    pub async fn counters_ready(&self) -> Result<bool, LedgerError> {
        let key = layout::counters_ready_key(self.org(), self.connection());
        Ok(self.store().get(&key).await?.is_some())
    }

    /// Every stored counter (all months).
    pub async fn all_counters(&self) -> Result<CounterMap, LedgerError> {
        let q = Query::prefix(layout::conn_pk(self.org(), self.connection()), layout::COUNTER_SK_PREFIX);
        let all: Vec<MonthCounter> = record::query_all(self.store(), &q).await?;
        Ok(all.into_iter().map(|c| ((c.month.clone(), c.region.clone()), c)).collect())
    }

    /// The counters as a full read of the transactions computes them (what the kept ones must equal), a page of
    /// heads at a time: a ledger of millions of transactions is never held in memory.
    pub async fn recomputed_counters(&self) -> Result<CounterMap, LedgerError> {
        let mut all = CounterMap::new();
        for kind in [DocKind::Invoice, DocKind::Credit] {
            let mut q = Query::prefix(layout::conn_pk(self.org(), self.connection()), layout::txn_sk_prefix(kind));
            q.limit = RECOMPUTE_PAGE;
            loop {
                let page = self.store().query(&q).await?;
                for item in &page.items {
                    counters::add(&mut all, &record::decode::<TxnHead>(item)?);
                }
                match page.next {
                    Some(next) => q.after = Some(next),
                    None => break,
                }
            }
        }
        all.retain(|_, c| !c.is_empty());
        Ok(all)
    }

    /// Builds the counters from the stored transactions when they are not marked ready (a ledger from before
    /// counters, or one whose build was cut short), then marks them ready. Returns whether it built them.
    pub async fn ensure_counters(&self, guard: &LeaseGuard) -> Result<bool, LedgerError> {
        if self.counters_ready().await? {
            return Ok(false);
        }
        let want = self.recomputed_counters().await?;
        let have = self.all_counters().await?;
        let mut ops: Vec<WriteOp> = Vec::new();
        for key in have.keys().filter(|k| !want.contains_key(*k)) {
            ops.push(WriteOp::Delete {
                key: layout::counter_key(self.org(), self.connection(), &key.0, &key.1),
                expect: Expect::Any,
            });
        }
        for (key, counter) in &want {
            if have.get(key) != Some(counter) {
                let k = layout::counter_key(self.org(), self.connection(), &key.0, &key.1);
                ops.push(record::put(k, counter, Expect::Any)?);
            }
        }
        for batch in ops.chunks(REBUILD_BATCH) {
            self.fenced(guard, batch.to_vec(), "counters").await?;
        }
        let ready = record::put(layout::counters_ready_key(self.org(), self.connection()), &want.len(), Expect::Any)?;
        self.fenced(guard, vec![ready], "counters").await?;
        Ok(true)
    }
}
