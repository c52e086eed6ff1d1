//! The storage model both adapters implement: items addressed by a partition key and a sort key
//! (the DynamoDB single-table shape of DESIGN §4), each carrying a version for optimistic locking, an
//! optional fencing token, an optional TTL and optional keys for the two secondary indexes.
//!
//! Everything the typed repositories need is expressed with three operations — `get`, `query` and an
//! atomic, conditional `write` — so the two adapters stay small and one conformance suite proves they
//! behave the same.

use std::future::Future;

/// Primary key of an item. Neither part may contain NUL (the embedded adapter's separator).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }
}

/// The secondary indexes of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    /// Sparse: connections by next sync time, for the dispatcher.
    Due,
    /// Ledger transactions by event date, for reports.
    ByDate,
}

/// Keys of an item in one secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

/// A stored item. `body` is the JSON of the typed record that owns the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: Key,
    /// Starts at 1 and is bumped by every update (the writer sets it; see [`Expect`]).
    pub version: u64,
    pub body: String,
    /// Fencing token held by this item (leases only).
    pub fence: Option<u64>,
    /// Expiry in epoch seconds. Expired items read as absent, whether or not the backend removed them.
    pub ttl: Option<i64>,
    pub due: Option<IndexKey>,
    pub by_date: Option<IndexKey>,
}

impl Item {
    pub fn new(key: Key, version: u64, body: String) -> Self {
        Item { key, version, body, fence: None, ttl: None, due: None, by_date: None }
    }

    pub fn index_key(&self, index: Index) -> Option<&IndexKey> {
        match index {
            Index::Due => self.due.as_ref(),
            Index::ByDate => self.by_date.as_ref(),
        }
    }

    pub fn is_expired(&self, now_secs: i64) -> bool {
        self.ttl.is_some_and(|t| t <= now_secs)
    }
}

/// What must hold for a write to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Unconditional.
    Any,
    /// The item must not exist (create-if-absent).
    Absent,
    /// The item must exist with exactly this version (update-if-version-matches).
    Version(u64),
}

/// One operation of an atomic write.
#[derive(Debug, Clone)]
pub enum WriteOp {
    Put {
        item: Item,
        expect: Expect,
    },
    Delete {
        key: Key,
        expect: Expect,
    },
    /// Writes nothing; the item must exist and hold this fencing token (the lease check that makes a
    /// write "conditional on the fencing token").
    CheckFence {
        key: Key,
        fence: u64,
    },
}

impl WriteOp {
    pub fn key(&self) -> &Key {
        match self {
            WriteOp::Put { item, .. } => &item.key,
            WriteOp::Delete { key, .. } | WriteOp::CheckFence { key, .. } => key,
        }
    }
}

/// Most operations one atomic write may carry (DynamoDB TransactWriteItems allows 100; we stay well
/// below so a write never approaches the 4 MB aggregate limit).
pub const MAX_WRITE_OPS: usize = 25;

/// Which sort keys a query selects inside its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `None` queries the table itself; `Some` one of the secondary indexes.
    pub index: Option<Index>,
    pub pk: String,
    pub sk: SkRange,
    /// Continue after this cursor (from a previous [`Page::next`]).
    pub after: Option<String>,
    pub limit: usize,
    pub descending: bool,
}

impl Query {
    pub fn prefix(pk: impl Into<String>, prefix: impl Into<String>) -> Self {
        Query {
            index: None,
            pk: pk.into(),
            sk: SkRange::Prefix(prefix.into()),
            after: None,
            limit: 100,
            descending: false,
        }
    }
}

/// One page of a query. `next` is an opaque cursor, identical across adapters.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

/// Cursor of an item in a query: the sort key for the table, `isk NUL pk NUL sk` for an index.
pub fn cursor_of(item: &Item, index: Option<Index>) -> String {
    match index.and_then(|i| item.index_key(i)) {
        None => item.key.sk.clone(),
        Some(ik) => format!("{}\0{}\0{}", ik.sk, item.key.pk, item.key.sk),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold (stale version, existing item, stale fencing token); nothing was written.
    #[error("condition failed on operation {op} of the write")]
    ConditionFailed { op: usize },
    #[error("invalid write: {0}")]
    Invalid(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn is_condition_failed(&self) -> bool {
        matches!(self, StoreError::ConditionFailed { .. })
    }
}

/// An SDK error with its whole source chain (the SDKs' `Display` alone is terse). Carries no request
/// data and so no secrets.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// Checks a write before it goes to a backend: size, key characters, no two operations on one item.
pub fn validate_write(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > MAX_WRITE_OPS {
        return Err(StoreError::Invalid(format!("a write carries 1–{MAX_WRITE_OPS} operations, not {}", ops.len())));
    }
    for (i, op) in ops.iter().enumerate() {
        let k = op.key();
        if k.pk.is_empty() || k.sk.is_empty() || k.pk.contains('\0') || k.sk.contains('\0') {
            return Err(StoreError::Invalid("keys must be non-empty and must not contain NUL".into()));
        }
        if ops[..i].iter().any(|o| o.key() == k) {
            return Err(StoreError::Invalid("two operations on one item".into()));
        }
    }
    Ok(())
}

/// The storage port both adapters implement.
pub trait ItemStore: Send + Sync + 'static {
    fn get(&self, key: &Key) -> impl Future<Output = Result<Option<Item>, StoreError>> + Send;
    /// The items of `keys`, in their order (`None` where absent). Adapters that can fetch many keys in one
    /// round trip do (DynamoDB: BatchGetItem, 100 keys a call); by default one `get` per key.
    fn get_many(&self, keys: &[Key]) -> impl Future<Output = Result<Vec<Option<Item>>, StoreError>> + Send {
        async move {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                out.push(self.get(k).await?);
            }
            Ok(out)
        }
    }
    fn query(&self, q: &Query) -> impl Future<Output = Result<Page, StoreError>> + Send;
    /// Every item `q` matches, page after page (`q.limit` a page, from `q.after`): the one "read the whole
    /// range" loop. For bounded ranges (an org's registrations, keys, connections; a connection's quarantine);
    /// unbounded listings page through [`ItemStore::query`] with their own limit.
    fn query_all(&self, q: &Query) -> impl Future<Output = Result<Vec<Item>, StoreError>> + Send {
        async move {
            let mut q = q.clone();
            let mut out = Vec::new();
            loop {
                let page = self.query(&q).await?;
                out.extend(page.items);
                match page.next {
                    Some(n) => q.after = Some(n),
                    None => return Ok(out),
                }
            }
        }
    }
    /// Applies every operation or none.
    fn write(&self, ops: Vec<WriteOp>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A write the caller does not wait to see durable (audit-style records on a hot path). Adapters
    /// that can queue it do so and return at once (a failure is logged, not returned); by default it
    /// is an ordinary write. What survives a crash is adapter-specific and documented with it.
    fn write_deferred(&self, ops: Vec<WriteOp>) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.write(ops)
    }
}
