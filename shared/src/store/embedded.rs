//! The embedded adapter: one redb file under a data directory, for `sphere-local` and fast tests.
//!
//! Reads run inline on a read transaction. Writes go to one writer thread that **group-commits**:
//! it drains every request waiting in its queue, applies each one atomically (all conditions checked
//! before any of its operations apply) inside a single redb transaction, and makes them durable with
//! one fsync. A write is acknowledged only after that commit, so concurrent callers share disk syncs
//! instead of queueing behind one another, and an acknowledged write survives a crash.
//!
//! Deferred writes (calculation records) take another road: an append-only log in front of the B-tree,
//! compacted into it in large batches (`super::deferred_log`).

use super::item::{
    Expect, Index, IndexKey, Item, ItemStore, Key, Page, Query, SkRange, StoreError, WriteOp, cursor_of, validate_write,
};
use super::secrets::{SecretError, SecretStore, SecretValue};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub(super) const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
pub(super) const IDX_DUE: TableDefinition<&str, ()> = TableDefinition::new("idx_due");
pub(super) const IDX_BY_DATE: TableDefinition<&str, ()> = TableDefinition::new("idx_by_date");

/// redb's page cache (its default is 1 GiB).
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Writes waiting for the writer at most; beyond it writers wait (backpressure instead of memory
/// growing without bound when writes arrive faster than the disk commits them).
const QUEUE_DEPTH: usize = 4_096;

/// Most requests folded into one commit.
const MAX_GROUP: usize = 512;

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u64,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fence: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    due: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by_date: Option<(String, String)>,
}

pub(super) struct WriteRequest {
    pub(super) ops: Vec<WriteOp>,
    /// `None` for a deferred write: nobody waits; a failure is logged.
    pub(super) reply: Option<oneshot::Sender<Result<(), StoreError>>>,
}

impl WriteRequest {
    fn answer(self, result: Result<(), StoreError>) {
        match (self.reply, result) {
            (Some(tx), r) => {
                let _ = tx.send(r);
            }
            // Nobody waits for a deferred write: name the records it held so none is silently lost.
            (None, Err(e)) => {
                let records: Vec<String> = self.ops.iter().map(|o| format!("{}/{}", o.key().pk, o.key().sk)).collect();
                tracing::error!(error = %e, records = %records.join(","), "deferred store write failed");
            }
            (None, Ok(())) => {}
        }
    }
}

/// The embedded store. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    writer: Arc<Writer>,
    /// Deferred writes: logged, then compacted into `db` in batches.
    log: Arc<super::deferred_log::DeferredLog>,
    /// AES-256 key sealing secrets at rest (`<dir>/master.key`, mode 0600).
    master_key: Arc<Vec<u8>>,
}

/// The writer thread's queue. Dropping the last handle closes the queue and waits for the thread, so
/// the database file is closed when the last clone of the store goes away (and can be reopened).
struct Writer {
    queue: Option<mpsc::Sender<WriteRequest>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn table_key(pk: &str, sk: &str) -> String {
    format!("{pk}\0{sk}")
}

fn index_entry(ik: &IndexKey, key: &Key) -> String {
    format!("{}\0{}\0{}\0{}", ik.pk, ik.sk, key.pk, key.sk)
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(super) fn decode_stored(key: Key, bytes: &[u8]) -> Result<Item, StoreError> {
    decode(key, bytes)
}

pub(super) fn encode_stored(item: &Item) -> Result<Vec<u8>, StoreError> {
    encode(item)
}

fn decode(key: Key, bytes: &[u8]) -> Result<Item, StoreError> {
    let s: Stored = serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Item {
        key,
        version: s.v,
        body: s.body,
        fence: s.fence,
        ttl: s.ttl,
        due: s.due.map(|(pk, sk)| IndexKey { pk, sk }),
        by_date: s.by_date.map(|(pk, sk)| IndexKey { pk, sk }),
    })
}

fn encode(item: &Item) -> Result<Vec<u8>, StoreError> {
    let s = Stored {
        v: item.version,
        body: item.body.clone(),
        fence: item.fence,
        ttl: item.ttl,
        due: item.due.as_ref().map(|k| (k.pk.clone(), k.sk.clone())),
        by_date: item.by_date.as_ref().map(|k| (k.pk.clone(), k.sk.clone())),
    };
    serde_json::to_vec(&s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn split_key(k: &str) -> Option<Key> {
    let (pk, sk) = k.split_once('\0')?;
    Some(Key::new(pk, sk))
}

impl EmbeddedStore {
    /// Opens (or creates) `<dir>/store.redb`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(unavailable)?;
        // The data dir and the database file are the owner's only (the file holds every record; secrets are
        // sealed with master.key, also 0600).
        #[cfg(unix)]
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).map_err(unavailable)?;
        // A bounded page cache keeps memory flat however large the file grows.
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(dir.join("store.redb")).map_err(unavailable)?;
        #[cfg(unix)]
        std::fs::set_permissions(dir.join("store.redb"), std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(unavailable)?;
        {
            let tx = db.begin_write().map_err(unavailable)?;
            tx.open_table(ITEMS).map_err(unavailable)?;
            tx.open_table(IDX_DUE).map_err(unavailable)?;
            tx.open_table(IDX_BY_DATE).map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
        }
        let db = Arc::new(db);
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer_db = Arc::clone(&db);
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_loop(&writer_db, rx))
            .map_err(unavailable)?;
        let writer = Arc::new(Writer { queue: Some(tx), thread: Some(thread) });
        let log = Arc::new(super::deferred_log::DeferredLog::open(dir, Arc::clone(&db))?);
        let master_key = Arc::new(load_or_create_master_key(&dir.join("master.key"))?);
        Ok(EmbeddedStore { db, writer, log, master_key })
    }

    /// Deletes the items whose TTL has passed (they already read as absent; this frees their space), at most
    /// `limit` per call; returns how many were deleted. Each delete is conditional on the item still being
    /// expired (`Expect::Absent`, which an expired item satisfies), so an item written again meanwhile stays.
    pub async fn purge_expired(&self, limit: usize) -> Result<usize, StoreError> {
        let now = now_secs();
        let expired: Vec<Key> = {
            let tx = self.db.begin_read().map_err(unavailable)?;
            let t = tx.open_table(ITEMS).map_err(unavailable)?;
            let mut out = Vec::new();
            for entry in t.iter().map_err(unavailable)? {
                let (k, v) = entry.map_err(unavailable)?;
                let Some(key) = split_key(k.value()) else { continue };
                if decode(key.clone(), v.value())?.is_expired(now) {
                    out.push(key);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            out
        };
        let mut purged = 0;
        for chunk in expired.chunks(100) {
            let mut ops: Vec<WriteOp> =
                chunk.iter().map(|key| WriteOp::Delete { key: key.clone(), expect: Expect::Absent }).collect();
            // An item written again since the scan fails its condition: drop it from the batch and retry.
            while !ops.is_empty() {
                match self.write(ops.clone()).await {
                    Ok(()) => {
                        purged += ops.len();
                        break;
                    }
                    Err(StoreError::ConditionFailed { op }) if op < ops.len() => {
                        ops.remove(op);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(purged)
    }

    fn get_sync(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let logged = self.log.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key).cloned();
        if let Some(item) = logged {
            return Ok((!item.is_expired(now_secs())).then_some(item));
        }
        let tx = self.db.begin_read().map_err(unavailable)?;
        let t = tx.open_table(ITEMS).map_err(unavailable)?;
        let Some(v) = t.get(table_key(&key.pk, &key.sk).as_str()).map_err(unavailable)? else {
            return Ok(None);
        };
        let item = decode(key.clone(), v.value())?;
        Ok((!item.is_expired(now_secs())).then_some(item))
    }

    fn query_sync(&self, q: &Query) -> Result<Page, StoreError> {
        let tx = self.db.begin_read().map_err(unavailable)?;
        let items = tx.open_table(ITEMS).map_err(unavailable)?;
        // Bounds over the composite key `pk NUL <rest>`, where rest is `sk` (table) or `isk NUL pk NUL sk` (index).
        let part = format!("{}\0", q.pk);
        let (lo, hi) = match &q.sk {
            SkRange::Prefix(p) => (format!("{part}{p}"), format!("{part}{p}\u{10FFFF}")),
            SkRange::Between(a, b) => (format!("{part}{a}"), format!("{part}{b}\0\u{10FFFF}")),
        };
        let (lo, hi) = match (&q.after, q.descending) {
            (Some(c), false) => (std::cmp::max(lo, format!("{part}{c}\0")), hi),
            (Some(c), true) => (lo, std::cmp::min(hi, format!("{part}{c}"))),
            (None, _) => (lo, hi),
        };
        let now = now_secs();
        let mut out = Vec::new();
        let mut more = false;
        let mut push = |composite: &str| -> Result<bool, StoreError> {
            let rest = &composite[part.len()..];
            let key = match q.index {
                None => Some(Key::new(q.pk.clone(), rest)),
                Some(_) => rest.split_once('\0').and_then(|(_, k)| split_key(k)),
            };
            let Some(key) = key else { return Err(StoreError::Corrupt("bad index entry".into())) };
            let Some(v) = items.get(table_key(&key.pk, &key.sk).as_str()).map_err(unavailable)? else {
                return Ok(true);
            };
            let item = decode(key, v.value())?;
            if item.is_expired(now) {
                return Ok(true);
            }
            if out.len() == q.limit {
                more = true;
                return Ok(false);
            }
            out.push(item);
            Ok(true)
        };
        if lo < hi {
            match q.index {
                None => {
                    let range = items.range(lo.as_str()..hi.as_str()).map_err(unavailable)?;
                    if q.descending {
                        for e in range.rev() {
                            if !push(e.map_err(unavailable)?.0.value())? {
                                break;
                            }
                        }
                    } else {
                        for e in range {
                            if !push(e.map_err(unavailable)?.0.value())? {
                                break;
                            }
                        }
                    }
                }
                Some(index) => {
                    let t = tx.open_table(index_table(index)).map_err(unavailable)?;
                    let range = t.range(lo.as_str()..hi.as_str()).map_err(unavailable)?;
                    let keys: Vec<String> = if q.descending {
                        range.rev().map(|e| e.map(|(k, _)| k.value().to_owned())).collect::<Result<_, _>>()
                    } else {
                        range.map(|e| e.map(|(k, _)| k.value().to_owned())).collect::<Result<_, _>>()
                    }
                    .map_err(unavailable)?;
                    for k in keys {
                        if !push(&k)? {
                            break;
                        }
                    }
                }
            }
        }
        let next = if more { out.last().map(|i| cursor_of(i, q.index)) } else { None };
        Ok(Page { items: out, next })
    }
}

impl EmbeddedStore {
    /// The API key pepper of this data dir, derived from its master key (HMAC-SHA256 with a fixed label), so
    /// `sphere-local` needs no second secret file and keys stay valid across restarts of the same data dir.
    pub fn key_pepper(&self) -> crate::api_key::KeyPepper {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.master_key);
        let derived = aws_lc_rs::hmac::sign(&key, b"sphere-local api key pepper v1");
        match crate::api_key::KeyPepper::new(derived.as_ref()) {
            Ok(p) => p,
            Err(e) => unreachable!("HMAC-SHA256 output is 32 bytes: {e}"),
        }
    }
}

fn load_or_create_master_key(path: &Path) -> Result<Vec<u8>, StoreError> {
    match std::fs::read(path) {
        Ok(k) if k.len() == 32 => Ok(k),
        Ok(_) => Err(StoreError::Corrupt(format!("{} must hold exactly 32 bytes", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = crate::crypto::random_bytes(32);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(path).map_err(unavailable)?;
            std::io::Write::write_all(&mut f, &key).map_err(unavailable)?;
            f.sync_all().map_err(unavailable)?;
            Ok(key)
        }
        Err(e) => Err(unavailable(e)),
    }
}

fn secret_key(name: &str) -> Key {
    Key::new(format!("SECRET#{name}"), "SECRET")
}

impl SecretStore for EmbeddedStore {
    async fn put_secret(
        &self,
        name: &str,
        value: &SecretValue,
        _org: &crate::domain::OrgId,
    ) -> Result<(), SecretError> {
        let sealed = crate::crypto::seal(&self.master_key, name.as_bytes(), value.expose().as_bytes())
            .map_err(|e| SecretError::Unavailable(e.to_string()))?;
        let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sealed);
        let item = Item::new(secret_key(name), 1, body);
        self.write(vec![WriteOp::Put { item, expect: Expect::Any }])
            .await
            .map_err(|e| SecretError::Unavailable(e.to_string()))
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretValue>, SecretError> {
        let Some(item) = self.get_sync(&secret_key(name)).map_err(|e| SecretError::Unavailable(e.to_string()))? else {
            return Ok(None);
        };
        let sealed = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, item.body)
            .map_err(|e| SecretError::Corrupt(e.to_string()))?;
        let plain = crate::crypto::open(&self.master_key, name.as_bytes(), &sealed)
            .map_err(|e| SecretError::Corrupt(e.to_string()))?;
        String::from_utf8(plain).map(|s| Some(SecretValue::new(s))).map_err(|e| SecretError::Corrupt(e.to_string()))
    }

    async fn delete_secret(&self, name: &str) -> Result<(), SecretError> {
        self.write(vec![WriteOp::Delete { key: secret_key(name), expect: Expect::Any }])
            .await
            .map_err(|e| SecretError::Unavailable(e.to_string()))
    }
}

fn index_table(index: Index) -> TableDefinition<'static, &'static str, ()> {
    match index {
        Index::Due => IDX_DUE,
        Index::ByDate => IDX_BY_DATE,
    }
}

fn writer_loop(db: &Database, mut rx: mpsc::Receiver<WriteRequest>) {
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        match apply_group(db, &group) {
            Ok(results) => {
                for (req, res) in group.into_iter().zip(results) {
                    req.answer(res);
                }
            }
            Err(e) => {
                for req in group {
                    req.answer(Err(StoreError::Unavailable(e.to_string())));
                }
            }
        }
    }
}

/// Applies each request of the group in order inside one transaction; returns each request's outcome.
pub(super) fn apply_group(db: &Database, group: &[WriteRequest]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut tx = db.begin_write().map_err(unavailable)?;
    tx.set_durability(Durability::Immediate).map_err(unavailable)?;
    let mut results = Vec::with_capacity(group.len());
    {
        let mut items = tx.open_table(ITEMS).map_err(unavailable)?;
        let mut due = tx.open_table(IDX_DUE).map_err(unavailable)?;
        let mut by_date = tx.open_table(IDX_BY_DATE).map_err(unavailable)?;
        let now = now_secs();
        for req in group {
            // 1. every condition, against the state including earlier requests of this group
            let mut failed = None;
            for (i, op) in req.ops.iter().enumerate() {
                let key = op.key();
                let current = match items.get(table_key(&key.pk, &key.sk).as_str()).map_err(unavailable)? {
                    Some(v) => Some(decode(key.clone(), v.value())?).filter(|it| !it.is_expired(now)),
                    None => None,
                };
                let ok = match op {
                    WriteOp::Put { expect, .. } | WriteOp::Delete { expect, .. } => match expect {
                        Expect::Any => true,
                        Expect::Absent => current.is_none(),
                        Expect::Version(v) => current.as_ref().is_some_and(|c| c.version == *v),
                    },
                    WriteOp::CheckFence { fence, .. } => current.as_ref().is_some_and(|c| c.fence == Some(*fence)),
                };
                if !ok {
                    failed = Some(i);
                    break;
                }
            }
            if let Some(op) = failed {
                results.push(Err(StoreError::ConditionFailed { op }));
                continue;
            }
            // 2. apply
            for op in &req.ops {
                let key = op.key();
                let tk = table_key(&key.pk, &key.sk);
                if matches!(op, WriteOp::CheckFence { .. }) {
                    continue;
                }
                if let Some(old) = items.remove(tk.as_str()).map_err(unavailable)? {
                    let old = decode(key.clone(), old.value())?;
                    for (table, ik) in [(&mut due, &old.due), (&mut by_date, &old.by_date)] {
                        if let Some(ik) = ik {
                            table.remove(index_entry(ik, key).as_str()).map_err(unavailable)?;
                        }
                    }
                }
                if let WriteOp::Put { item, .. } = op {
                    items.insert(tk.as_str(), encode(item)?.as_slice()).map_err(unavailable)?;
                    for (table, ik) in [(&mut due, &item.due), (&mut by_date, &item.by_date)] {
                        if let Some(ik) = ik {
                            table.insert(index_entry(ik, key).as_str(), ()).map_err(unavailable)?;
                        }
                    }
                }
            }
            results.push(Ok(()));
        }
    }
    tx.commit().map_err(unavailable)?;
    Ok(results)
}

impl ItemStore for EmbeddedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.get_sync(key)
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        self.query_sync(q)
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_write(&ops)?;
        let (reply, rx) = oneshot::channel();
        let queue = self.writer.queue.as_ref().ok_or_else(|| unavailable("store writer stopped"))?;
        queue.send(WriteRequest { ops, reply: Some(reply) }).await.map_err(|_| unavailable("store writer stopped"))?;
        rx.await.map_err(|_| unavailable("store writer stopped"))?
    }

    /// Not awaited: puts (`Absent`/`Any`) are appended to the deferred log, durable once their group is
    /// fsync'd (normally within milliseconds), readable by `get` from then on and by queries once compacted;
    /// anything else is queued to the writer. A crash before the sync loses the write; nothing else is affected.
    async fn write_deferred(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_write(&ops)?;
        if super::deferred_log::loggable(&ops) {
            return self.log.send(ops).await;
        }
        let queue = self.writer.queue.as_ref().ok_or_else(|| unavailable("store writer stopped"))?;
        queue.send(WriteRequest { ops, reply: None }).await.map_err(|_| unavailable("store writer stopped"))
    }
}
