//! The ledger repository over [`ItemStore`]: idempotent, fenced upserts and reads by id.
//!
//! Every write carries the lease's fencing check as operation 0, so a holder whose lease was taken
//! over gets [`LedgerError::Fenced`] and nothing lands. An upsert reads the current head, compares
//! content hashes (equal → zero writes), refuses an older source version (stale), and otherwise
//! writes the next version with update-if-version-matches. A head over ~350 KB keeps its lines in
//! chunk items, written before the head that points at them (the head write is the commit point).

use super::model::{
    Change, CustomerRecord, DocKind, LedgerLine, ProductRecord, QuarantineRecord, TxnContent, TxnHead, TxnStatus,
    VersionEntry,
};
use crate::domain::{ConnectionId, OrgId};
use crate::exposure::counters::{self, Contribution};
use crate::layout;
use crate::store::lease::LeaseGuard;
use crate::store::record::{self, Versioned};
use crate::store::{Expect, IndexKey, Item, ItemStore, Key, Query, StoreError, WriteOp};

/// Heads whose JSON is larger than this keep their lines in chunk items (DynamoDB items max 400 KB).
pub const INLINE_MAX_BYTES: usize = 350_000;
/// Target size of one line chunk.
pub const CHUNK_TARGET_BYTES: usize = 300_000;
/// Chunk puts per write: keeps one write under DynamoDB's 4 MB transaction limit.
const CHUNKS_PER_WRITE: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The lease was taken over: this holder must stop (nothing was written).
    #[error("lease lost: the write was fenced off")]
    Fenced,
    /// The item changed under us although we hold the lease (a console edit, or a bug).
    #[error("concurrent modification of {0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    Created,
    Updated {
        version: u32,
    },
    /// Same content hash: nothing written.
    Unchanged,
    /// Same content, newer source version recorded (one write, no new ledger version).
    Touched,
    /// The incoming source version is older than the stored one: nothing written.
    Stale,
}

/// The ledger of one connection of one organization. Every key it touches is built from both, so a
/// `Ledger` can never read or write another tenant's items.
pub struct Ledger<'s, S> {
    store: &'s S,
    org: OrgId,
    conn: ConnectionId,
}

fn fence_err(e: StoreError, what: &str) -> LedgerError {
    match e {
        StoreError::ConditionFailed { op: 0 } => LedgerError::Fenced,
        StoreError::ConditionFailed { .. } => LedgerError::Conflict(what.to_owned()),
        other => LedgerError::Store(other),
    }
}

/// Splits lines into chunks of about `CHUNK_TARGET_BYTES` of JSON each (pure).
pub fn chunk_lines(lines: &[LedgerLine]) -> Result<Vec<Vec<LedgerLine>>, StoreError> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    let mut size = 0;
    for line in lines {
        let n = record::encode(line)?.len() + 1;
        if !current.is_empty() && size + n > CHUNK_TARGET_BYTES {
            chunks.push(std::mem::take(&mut current));
            size = 0;
        }
        size += n;
        current.push(line.clone());
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    Ok(chunks)
}

impl<'s, S: ItemStore> Ledger<'s, S> {
    pub fn new(store: &'s S, org: OrgId, conn: ConnectionId) -> Self {
        Ledger { store, org, conn }
    }

    pub fn org(&self) -> &OrgId {
        &self.org
    }

    pub fn connection(&self) -> &ConnectionId {
        &self.conn
    }

    pub(crate) fn store(&self) -> &'s S {
        self.store
    }

    pub(super) async fn fenced(
        &self,
        guard: &LeaseGuard,
        mut ops: Vec<WriteOp>,
        what: &str,
    ) -> Result<(), LedgerError> {
        ops.insert(0, guard.check());
        self.store.write(ops).await.map_err(|e| fence_err(e, what))
    }

    /// The stored head (lines inline unless chunked), with its item version.
    pub async fn head(&self, kind: DocKind, id: &str) -> Result<Option<Versioned<TxnHead>>, LedgerError> {
        Ok(record::get(self.store, &layout::txn_key(&self.org, &self.conn, kind, id)).await?)
    }

    /// A transaction by Sequence id, with all its lines and its version history.
    pub async fn get_transaction(&self, kind: DocKind, id: &str) -> Result<Option<TxnHead>, LedgerError> {
        let Some(v) = self.head(kind, id).await? else { return Ok(None) };
        let mut head = v.value;
        if head.line_chunks > 0 {
            let mut lines = Vec::with_capacity(head.line_count);
            for c in 0..head.line_chunks {
                let key = layout::lines_key(&self.org, &self.conn, kind, id, head.version, c);
                let chunk: Versioned<Vec<LedgerLine>> = record::get(self.store, &key)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("missing line chunk {} {}", key.pk, key.sk)))?;
                lines.extend(chunk.value);
            }
            head.txn.lines = lines;
        }
        Ok(Some(head))
    }

    /// Idempotent upsert of one transaction version (see the module doc for the rule).
    pub async fn upsert_transaction(
        &self,
        guard: &LeaseGuard,
        content: TxnContent,
        now_ms: i64,
    ) -> Result<Upsert, LedgerError> {
        let (kind, id) = (content.kind, content.source_id.clone());
        let current = self.head(kind, &id).await?;
        let is_stale = |cur: &TxnHead| match (content.source_updated_at, cur.txn.source_updated_at) {
            (Some(new), Some(old)) => new < old,
            _ => false,
        };
        let Some(cur) = current else {
            let change = if content.status == TxnStatus::Cancelled { Change::Cancelled } else { Change::Created };
            self.write_version(guard, content, 1, Vec::new(), change, Expect::Absent, None, None, now_ms).await?;
            return Ok(Upsert::Created);
        };
        if is_stale(&cur.value) {
            return Ok(Upsert::Stale);
        }
        if cur.value.txn.content_hash == content.content_hash {
            let same_source = cur.value.txn.header_hash == content.header_hash
                && cur.value.txn.source_version == content.source_version;
            if same_source {
                return Ok(Upsert::Unchanged);
            }
            let mut head = cur.value.clone();
            head.txn.header_hash = content.header_hash;
            head.txn.source_version = content.source_version;
            head.txn.source_updated_at = content.source_updated_at;
            let item = self.head_item(&head, cur.version + 1)?;
            self.fenced(guard, vec![WriteOp::Put { item, expect: cur.if_unchanged() }], "transaction").await?;
            return Ok(Upsert::Touched);
        }
        let change = match (cur.value.txn.status, content.status) {
            (TxnStatus::Active, TxnStatus::Cancelled) => Change::Cancelled,
            (TxnStatus::Cancelled, TxnStatus::Active) => Change::Reinstated,
            _ => Change::Updated,
        };
        let version = cur.value.version + 1;
        let history = cur.value.versions.clone();
        let old = (cur.value.line_chunks > 0).then_some((cur.value.version, cur.value.line_chunks));
        let was = counters::contribution(&cur.value);
        self.write_version(guard, content, version, history, change, cur.if_unchanged(), old, was, now_ms).await?;
        Ok(Upsert::Updated { version })
    }

    fn head_item(&self, head: &TxnHead, item_version: u64) -> Result<Item, StoreError> {
        let key = layout::txn_key(&self.org, &self.conn, head.txn.kind, &head.txn.source_id);
        let mut item = Item::new(key, item_version, record::encode(head)?);
        item.by_date = Some(IndexKey {
            pk: layout::conn_pk(&self.org, &self.conn),
            sk: layout::by_date_sk(head.txn.event_date, head.txn.kind, &head.txn.source_id),
        });
        Ok(item)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_version(
        &self,
        guard: &LeaseGuard,
        content: TxnContent,
        version: u32,
        mut versions: Vec<VersionEntry>,
        change: Change,
        expect: Expect,
        old_chunks: Option<(u32, u32)>,
        was: Option<Contribution>,
        now_ms: i64,
    ) -> Result<(), LedgerError> {
        let line_count = content.lines.len();
        versions.push(VersionEntry {
            version,
            change,
            recorded_at_ms: now_ms,
            status: content.status,
            source_status: content.source_status.clone(),
            source_version: content.source_version.clone(),
            content_hash: content.content_hash.clone(),
            net_total: content.net_total,
            tax_total: content.tax_total,
            gross_total: content.gross_total,
            line_count,
        });
        let item_version = match expect {
            Expect::Version(v) => v + 1,
            _ => 1,
        };
        let (kind, id) = (content.kind, content.source_id.clone());
        let mut head = TxnHead { txn: content, version, versions, line_chunks: 0, line_count };
        // The counters move in the same atomic write as the head (its commit point): a repeat finds the same
        // content hash and writes neither; a lost race fails both.
        let counter_ops = self.counter_ops(was.as_ref(), counters::contribution(&head).as_ref()).await?;
        let mut item = self.head_item(&head, item_version)?;
        if item.body.len() > INLINE_MAX_BYTES {
            // Chunks first (unreferenced until the head lands), then the head: a crash in between
            // leaves only orphan chunks that the retried upsert overwrites.
            let chunks = chunk_lines(&head.txn.lines)?;
            let mut ops = Vec::new();
            for (c, chunk) in chunks.iter().enumerate() {
                let c = u32::try_from(c).map_err(|_| StoreError::Invalid("too many line chunks".into()))?;
                let key = layout::lines_key(&self.org, &self.conn, kind, &id, version, c);
                ops.push(WriteOp::Put { item: Item::new(key, 1, record::encode(chunk)?), expect: Expect::Any });
                if ops.len() == CHUNKS_PER_WRITE {
                    self.fenced(guard, std::mem::take(&mut ops), "line chunk").await?;
                }
            }
            if !ops.is_empty() {
                self.fenced(guard, ops, "line chunk").await?;
            }
            head.line_chunks = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
            head.txn.lines.clear();
            item = self.head_item(&head, item_version)?;
        }
        let mut ops = vec![WriteOp::Put { item, expect }];
        ops.extend(counter_ops);
        self.fenced(guard, ops, "transaction").await?;
        if let Some((old_version, n)) = old_chunks {
            // Best effort: the previous version's chunks are no longer referenced.
            let dels: Vec<WriteOp> = (0..n)
                .map(|c| WriteOp::Delete {
                    key: layout::lines_key(&self.org, &self.conn, kind, &id, old_version, c),
                    expect: Expect::Any,
                })
                .collect();
            for batch in dels.chunks(crate::store::item::MAX_WRITE_OPS - 1) {
                if let Err(e) = self.fenced(guard, batch.to_vec(), "old line chunks").await {
                    tracing::warn!(error = %e, "could not delete superseded line chunks");
                }
            }
        }
        Ok(())
    }

    async fn upsert_simple<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        guard: &LeaseGuard,
        key: Key,
        make: impl Fn(Option<&T>) -> Option<T>,
        what: &str,
    ) -> Result<Upsert, LedgerError> {
        // One retry: a console edit (e.g. a product tax code) may bump the version between read and write.
        for attempt in 0..2 {
            let current: Option<Versioned<T>> = record::get(self.store, &key).await?;
            let Some(next) = make(current.as_ref().map(|c| &c.value)) else { return Ok(Upsert::Unchanged) };
            let op = record::put(key.clone(), &next, record::if_unchanged_or_absent(&current))?;
            match self.fenced(guard, vec![op], what).await {
                Ok(()) => {
                    return Ok(match &current {
                        Some(c) => Upsert::Updated { version: u32::try_from(c.version + 1).unwrap_or(u32::MAX) },
                        None => Upsert::Created,
                    });
                }
                Err(LedgerError::Conflict(_)) if attempt == 0 => {}
                Err(e) => return Err(e),
            }
        }
        Err(LedgerError::Conflict(what.to_owned()))
    }

    /// Upserts a product, keeping the tax code the user assigned.
    pub async fn upsert_product(&self, guard: &LeaseGuard, rec: ProductRecord) -> Result<Upsert, LedgerError> {
        let key = layout::product_key(&self.org, &self.conn, &rec.id);
        self.upsert_simple::<ProductRecord>(
            guard,
            key,
            |cur| match cur {
                Some(c) if c.content_hash == rec.content_hash => None,
                Some(c) => Some(ProductRecord { tax_code: c.tax_code.clone(), ..rec.clone() }),
                None => Some(rec.clone()),
            },
            "product",
        )
        .await
    }

    pub async fn product(&self, id: &str) -> Result<Option<ProductRecord>, LedgerError> {
        Ok(record::get(self.store, &layout::product_key(&self.org, &self.conn, id)).await?.map(|v| v.value))
    }

    /// Upserts a customer, keeping the exemption jurisdictions set on our side (Sequence has no such field).
    pub async fn upsert_customer(&self, guard: &LeaseGuard, rec: CustomerRecord) -> Result<Upsert, LedgerError> {
        let key = layout::customer_key(&self.org, &self.conn, &rec.id);
        self.upsert_simple::<CustomerRecord>(
            guard,
            key,
            |cur| match cur {
                Some(c) if c.content_hash == rec.content_hash => None,
                Some(c) => Some(CustomerRecord { exempt_jurisdictions: c.exempt_jurisdictions.clone(), ..rec.clone() }),
                None => Some(rec.clone()),
            },
            "customer",
        )
        .await
    }

    pub async fn customer(&self, id: &str) -> Result<Option<CustomerRecord>, LedgerError> {
        Ok(record::get(self.store, &layout::customer_key(&self.org, &self.conn, id)).await?.map(|v| v.value))
    }

    /// Stores (or refreshes) a quarantined document; unchanged content writes nothing.
    pub async fn quarantine(&self, guard: &LeaseGuard, rec: QuarantineRecord) -> Result<Upsert, LedgerError> {
        let key = layout::quarantine_key(&self.org, &self.conn, &rec.kind, &rec.source_id);
        self.upsert_simple::<QuarantineRecord>(
            guard,
            key,
            |cur| match cur {
                Some(c)
                    if c.content_hash == rec.content_hash && c.reason == rec.reason && c.attempts == rec.attempts =>
                {
                    None
                }
                _ => Some(rec.clone()),
            },
            "quarantine",
        )
        .await
    }

    pub async fn quarantined(&self, kind: &str, id: &str) -> Result<Option<QuarantineRecord>, LedgerError> {
        Ok(record::get(self.store, &layout::quarantine_key(&self.org, &self.conn, kind, id)).await?.map(|v| v.value))
    }

    /// Removes a quarantine entry (the document now maps, or changed and is re-evaluated).
    pub async fn clear_quarantine(&self, guard: &LeaseGuard, kind: &str, id: &str) -> Result<(), LedgerError> {
        let key = layout::quarantine_key(&self.org, &self.conn, kind, id);
        self.fenced(guard, vec![WriteOp::Delete { key, expect: Expect::Any }], "quarantine").await
    }

    /// Every quarantined document of this connection.
    pub async fn list_quarantine(&self) -> Result<Vec<QuarantineRecord>, LedgerError> {
        let q = Query::prefix(layout::conn_pk(&self.org, &self.conn), layout::QUARANTINE_SK_PREFIX);
        Ok(record::query_all(self.store, &q).await?)
    }

    /// `(source id, content hash, status)` of every transaction of `kind` (reconciliation).
    pub async fn list_hashes(&self, kind: DocKind) -> Result<Vec<(String, String, TxnStatus)>, LedgerError> {
        let q = Query::prefix(layout::conn_pk(&self.org, &self.conn), layout::txn_sk_prefix(kind));
        let heads: Vec<TxnHead> = record::query_all(self.store, &q).await?;
        Ok(heads.into_iter().map(|h| (h.txn.source_id, h.txn.content_hash, h.txn.status)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Decimal;

    fn line(i: usize, title_len: usize) -> LedgerLine {
        LedgerLine {
            line_id: format!("l{i}"),
            product_id: None,
            title: "t".repeat(title_len),
            tax_code: None,
            quantity: Decimal::ONE,
            net: Decimal::ONE,
            discount: Decimal::ZERO,
            taxable: Decimal::ONE,
            tax_collected: Decimal::ZERO,
            tax_calculated: None,
            gross: Decimal::ONE,
            credited_line_id: None,
        }
    }

    #[test]
    fn chunks_stay_under_the_target_and_keep_order() {
        let lines: Vec<LedgerLine> = (0..3_000).map(|i| line(i, 300)).collect();
        let chunks = chunk_lines(&lines).unwrap();
        assert!(chunks.len() >= 3);
        for c in &chunks {
            assert!(record::encode(c).unwrap().len() <= CHUNK_TARGET_BYTES + 1_000);
        }
        let flat: Vec<LedgerLine> = chunks.into_iter().flatten().collect();
        assert_eq!(flat, lines);
        assert!(chunk_lines(&[]).unwrap().is_empty());
    }
}
