//! The embedded store's deferred writes (calculation records on the tax path): an append-only log in
//! front of the B-tree.
//!
//! Why: putting every record into redb as it arrives costs the B-tree's copy-on-write pages at every group
//! commit; at 15,000 answers a second that took a third of the server's CPU and set the p99 at concurrency 64
//! (docs/performance.md). Appending the same bytes to a file costs a sequential write. So a deferred write is
//!
//! 1. appended to `<dir>/deferred.log` by the log thread, one group of requests per `fdatasync` — from then
//!    on it is durable (the stated durability of a deferred write: a crash before its group syncs loses it,
//!    nothing else) and visible to `get` (the pending map);
//! 2. moved into redb in large batches — every [`COMPACT_EVERY`] or [`COMPACT_AT`] requests, one transaction
//!    for the batch — after which the log is emptied;
//! 3. replayed into redb when the store opens, if the process stopped between 1 and 2.
//!
//! Only puts conditioned on `Absent` or `Any` are logged (their replay is idempotent: a record already in
//! redb fails `Absent` and is skipped, `Any` rewrites the same value); other deferred writes take the
//! ordinary writer queue. Queries see a logged item once it is compacted (≤ [`COMPACT_EVERY`] when idle);
//! `get` sees it at once. Each logged request is one entry with its own checksum, so a request of several
//! puts (a split calculation record) is replayed whole or not at all; a torn tail is dropped and reported.
//!
//! Entry: `u32 LE payload length ‖ payload ‖ first 8 bytes of SHA-256(payload)`; payload: `u32 puts`, then per
//! put `u8 expect (0 any, 1 absent) ‖ u32 len ‖ pk ‖ u32 len ‖ sk ‖ u32 len ‖ stored item`.

use super::embedded::{WriteRequest, apply_group, decode_stored, encode_stored};
use super::item::{Expect, Item, Key, StoreError, WriteOp};
use redb::Database;
use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Log file name in the data dir.
pub const FILE_NAME: &str = "deferred.log";
/// Requests logged but not yet in redb that trigger a compaction.
const COMPACT_AT: usize = 4_096;
/// Longest a logged request waits for its compaction while the log is otherwise idle.
const COMPACT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Requests waiting for the log thread at most (then senders wait: backpressure, memory stays bounded).
const QUEUE_DEPTH: usize = 4_096;
/// Most requests appended with one `fdatasync`.
const MAX_GROUP: usize = 1_024;

/// Logged items not yet in redb, by key (what `get` consults first).
pub type Pending = Arc<Mutex<HashMap<Key, Item>>>;

/// The log thread's handle. Dropping it closes the queue; the thread compacts what it holds and exits.
pub struct DeferredLog {
    queue: Option<mpsc::Sender<Vec<WriteOp>>>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub pending: Pending,
}

impl Drop for DeferredLog {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("deferred log: {e}"))
}

/// Whether a deferred write can go to the log (see the module doc).
pub fn loggable(ops: &[WriteOp]) -> bool {
    ops.iter().all(|op| matches!(op, WriteOp::Put { expect: Expect::Absent | Expect::Any, .. }))
}

impl DeferredLog {
    /// Replays `<dir>/deferred.log` into `db` (a previous process's uncompacted records), then starts the log thread.
    pub fn open(dir: &Path, db: Arc<Database>) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut file = opts.open(&path).map_err(io)?;
        replay(&mut file, &db)?;
        let pending: Pending = Arc::default();
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let thread_pending = Arc::clone(&pending);
        let thread = std::thread::Builder::new()
            .name("store-log".into())
            .spawn(move || log_loop(&db, file, rx, &thread_pending))
            .map_err(io)?;
        Ok(DeferredLog { queue: Some(tx), thread: Some(thread), pending })
    }

    /// Queues `ops` (puts, see [`loggable`]) for the log; waits only while the queue is full.
    pub async fn send(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let queue = self.queue.as_ref().ok_or_else(|| io("stopped"))?;
        queue.send(ops).await.map_err(|_| io("stopped"))
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) -> Result<(), StoreError> {
    let n = u32::try_from(n).map_err(|_| StoreError::Invalid("deferred write too large".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

/// One request as a log entry.
fn encode_entry(ops: &[WriteOp], out: &mut Vec<u8>) -> Result<(), StoreError> {
    let mut payload = Vec::with_capacity(1024);
    put_u32(&mut payload, ops.len())?;
    for op in ops {
        let WriteOp::Put { item, expect } = op else { return Err(StoreError::Invalid("only puts are logged".into())) };
        payload.push(u8::from(matches!(expect, Expect::Absent)));
        for part in [item.key.pk.as_bytes(), item.key.sk.as_bytes()] {
            put_u32(&mut payload, part.len())?;
            payload.extend_from_slice(part);
        }
        let stored = encode_stored(item)?;
        put_u32(&mut payload, stored.len())?;
        payload.extend_from_slice(&stored);
    }
    put_u32(out, payload.len())?;
    out.extend_from_slice(&payload);
    out.extend_from_slice(&crate::crypto::sha256(&payload)[..8]);
    Ok(())
}

/// Reads `n` bytes at `*at`, advancing it; `None` past the end.
fn take<'a>(buf: &'a [u8], at: &mut usize, n: usize) -> Option<&'a [u8]> {
    let end = at.checked_add(n)?;
    let s = buf.get(*at..end)?;
    *at = end;
    Some(s)
}

/// A `u32`-length-prefixed byte string at `*at`.
fn take_sized<'a>(buf: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let n = take_u32(buf, at)?;
    take(buf, at, n)
}

fn take_u32(buf: &[u8], at: &mut usize) -> Option<usize> {
    let b = take(buf, at, 4)?;
    usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
}

/// The requests of a log, up to the first entry that is torn or fails its checksum; and where that is.
fn decode_log(buf: &[u8]) -> (Vec<Vec<WriteOp>>, usize) {
    let mut at = 0;
    let mut requests = Vec::new();
    loop {
        let start = at;
        let entry = (|| {
            let payload = take_sized(buf, &mut at)?;
            let sum = take(buf, &mut at, 8)?;
            (crate::crypto::sha256(payload)[..8] == *sum).then_some(payload)
        })();
        let Some(payload) = entry else { return (requests, start) };
        let decoded = (|| {
            let mut p = 0;
            let puts = take_u32(payload, &mut p)?;
            let mut ops = Vec::with_capacity(puts.min(1_000));
            for _ in 0..puts {
                let expect = if take(payload, &mut p, 1)?[0] == 1 { Expect::Absent } else { Expect::Any };
                let pk = std::str::from_utf8(take_sized(payload, &mut p)?).ok()?;
                let sk = std::str::from_utf8(take_sized(payload, &mut p)?).ok()?;
                let stored = take_sized(payload, &mut p)?;
                let item = decode_stored(Key::new(pk, sk), stored).ok()?;
                ops.push(WriteOp::Put { item, expect });
            }
            Some(ops)
        })();
        match decoded {
            Some(ops) => requests.push(ops),
            None => return (requests, start),
        }
    }
}

/// Moves a previous process's logged requests into redb and empties the log.
fn replay(file: &mut std::fs::File, db: &Database) -> Result<(), StoreError> {
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).map_err(io)?;
    if buf.is_empty() {
        return Ok(());
    }
    let (requests, valid) = decode_log(&buf);
    if valid < buf.len() {
        tracing::warn!(dropped_bytes = buf.len() - valid, "deferred log: a torn or corrupt tail was dropped");
    }
    let count = requests.len();
    let group: Vec<WriteRequest> = requests.into_iter().map(|ops| WriteRequest { ops, reply: None }).collect();
    // Already-applied requests fail their `Absent` condition: expected after a crash between compaction and truncation.
    apply_group(db, &group)?;
    truncate(file)?;
    tracing::info!(requests = count, "deferred log replayed into the store");
    Ok(())
}

fn truncate(file: &mut std::fs::File) -> Result<(), StoreError> {
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    file.sync_data().map_err(io)
}

/// The requests logged since the last compaction.
struct Batch {
    requests: Vec<Vec<WriteOp>>,
}

impl Batch {
    /// Moves the batch into redb in one transaction, empties the log and forgets the pending items.
    fn compact(&mut self, db: &Database, file: &mut std::fs::File, pending: &Pending) {
        if self.requests.is_empty() {
            return;
        }
        let group: Vec<WriteRequest> =
            std::mem::take(&mut self.requests).into_iter().map(|ops| WriteRequest { ops, reply: None }).collect();
        match apply_group(db, &group) {
            Ok(results) => {
                for (req, res) in group.iter().zip(&results) {
                    if let Err(e) = res {
                        let keys: Vec<String> =
                            req.ops.iter().map(|o| format!("{}/{}", o.key().pk, o.key().sk)).collect();
                        tracing::error!(error = %e, records = %keys.join(","), "deferred write not applied");
                    }
                }
                if let Err(e) = truncate(file) {
                    // The records are in redb; a log that could not be emptied is replayed (idempotently) later.
                    tracing::error!(error = %e, "deferred log: could not empty the log after compaction");
                }
                let mut p = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                for req in &group {
                    for op in &req.ops {
                        p.remove(op.key());
                    }
                }
            }
            Err(e) => {
                // Nothing applied: keep the batch (still logged and pending) and try again at the next compaction.
                tracing::error!(error = %e, requests = group.len(), "deferred log: compaction failed, will retry");
                self.requests = group.into_iter().map(|r| r.ops).collect();
            }
        }
    }
}

fn log_loop(db: &Database, mut file: std::fs::File, mut rx: mpsc::Receiver<Vec<WriteOp>>, pending: &Pending) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "deferred log: cannot start its thread's runtime");
            return;
        }
    };
    let mut batch = Batch { requests: Vec::new() };
    let mut due = std::time::Instant::now() + COMPACT_EVERY;
    let mut buf = Vec::with_capacity(1 << 20);
    rt.block_on(async {
        loop {
            let next = if batch.requests.is_empty() {
                rx.recv().await
            } else {
                match tokio::time::timeout_at(due.into(), rx.recv()).await {
                    Ok(r) => r,
                    Err(_) => {
                        batch.compact(db, &mut file, pending);
                        continue;
                    }
                }
            };
            let Some(first) = next else { break };
            if batch.requests.is_empty() {
                due = std::time::Instant::now() + COMPACT_EVERY;
            }
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            append(&mut file, &mut buf, group, &mut batch, pending);
            if batch.requests.len() >= COMPACT_AT || std::time::Instant::now() >= due {
                batch.compact(db, &mut file, pending);
            }
        }
    });
    // The queue closed (the store is going away): what was logged goes into redb before the thread ends.
    batch.compact(db, &mut file, pending);
}

/// Appends a group with one `fdatasync`; then its items are pending (visible to `get`) and in the batch.
fn append(file: &mut std::fs::File, buf: &mut Vec<u8>, group: Vec<Vec<WriteOp>>, batch: &mut Batch, pending: &Pending) {
    buf.clear();
    let mut logged = Vec::with_capacity(group.len());
    for ops in group {
        match encode_entry(&ops, buf) {
            Ok(()) => logged.push(ops),
            Err(e) => {
                let keys: Vec<String> = ops.iter().map(|o| format!("{}/{}", o.key().pk, o.key().sk)).collect();
                tracing::error!(error = %e, records = %keys.join(","), "deferred write not logged");
            }
        }
    }
    if let Err(e) = file.write_all(buf).and_then(|()| file.sync_data()) {
        let keys: Vec<String> = logged.iter().flatten().map(|o| format!("{}/{}", o.key().pk, o.key().sk)).collect();
        tracing::error!(error = %e, records = %keys.join(","), "deferred log: append failed, records lost");
        return;
    }
    let mut p = pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for ops in &logged {
        for op in ops {
            if let WriteOp::Put { item, .. } = op {
                p.insert(item.key.clone(), item.clone());
            }
        }
    }
    drop(p);
    batch.requests.extend(logged);
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableDatabase;

    fn put(pk: &str, sk: &str, body: &str, expect: Expect) -> WriteOp {
        let mut item = Item::new(Key::new(pk, sk), 1, body.to_owned());
        item.ttl = Some(4_000_000_000);
        WriteOp::Put { item, expect }
    }

    #[test]
    fn entries_round_trip_and_a_torn_tail_is_cut_at_the_last_whole_entry() {
        let a = vec![put("CALC#o", "c1", "{\"x\":1}", Expect::Absent)];
        let b = vec![put("CALC#o", "c2", "{}", Expect::Absent), put("CALC#o", "c2#PART#0", "[]", Expect::Any)];
        let mut buf = Vec::new();
        encode_entry(&a, &mut buf).unwrap();
        let first_len = buf.len();
        encode_entry(&b, &mut buf).unwrap();
        let (reqs, valid) = decode_log(&buf);
        assert_eq!((reqs.len(), valid), (2, buf.len()));
        assert_eq!(reqs[1].len(), 2, "a request's puts stay together");
        let WriteOp::Put { item, expect } = &reqs[0][0] else { panic!("a put") };
        assert_eq!(
            (item.key.sk.as_str(), item.body.as_str(), item.ttl, *expect),
            ("c1", "{\"x\":1}", Some(4_000_000_000), Expect::Absent)
        );
        // torn: the second entry cut short, or a flipped byte in it → only the first survives
        let (reqs, valid) = decode_log(&buf[..buf.len() - 3]);
        assert_eq!((reqs.len(), valid), (1, first_len));
        let mut flipped = buf.clone();
        flipped[first_len + 10] ^= 0xff;
        assert_eq!(decode_log(&flipped).0.len(), 1);
    }

    #[test]
    fn a_previous_process_log_is_replayed_once_and_emptied() {
        let dir = std::env::temp_dir().join(format!("deferred-log-{}", crate::domain::new_uuid()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Arc::new(Database::create(dir.join("db.redb")).unwrap());
        {
            let tx = db.begin_write().unwrap();
            tx.open_table(super::super::embedded::ITEMS).unwrap();
            tx.open_table(super::super::embedded::IDX_DUE).unwrap();
            tx.open_table(super::super::embedded::IDX_BY_DATE).unwrap();
            tx.commit().unwrap();
        }
        // what a process left: two whole requests and a torn third
        let mut buf = Vec::new();
        encode_entry(&[put("CALC#o", "c1", "1", Expect::Absent)], &mut buf).unwrap();
        encode_entry(&[put("CALC#o", "c2", "2", Expect::Absent)], &mut buf).unwrap();
        let whole = buf.len();
        encode_entry(&[put("CALC#o", "c3", "3", Expect::Absent)], &mut buf).unwrap();
        std::fs::write(dir.join(FILE_NAME), &buf[..whole + 5]).unwrap();
        let log = DeferredLog::open(&dir, Arc::clone(&db)).unwrap();
        assert_eq!(std::fs::metadata(dir.join(FILE_NAME)).unwrap().len(), 0, "emptied after the replay");
        drop(log);
        let read = |sk: &str| {
            let tx = db.begin_read().unwrap();
            let t = tx.open_table(super::super::embedded::ITEMS).unwrap();
            redb::ReadableTable::get(&t, format!("CALC#o\0{sk}").as_str()).unwrap().map(|v| v.value().to_vec())
        };
        assert!(read("c1").is_some() && read("c2").is_some());
        assert!(read("c3").is_none(), "the torn request is dropped whole");
        // a crash between compaction and truncation replays again: the `Absent` puts are skipped, nothing changes
        std::fs::write(dir.join(FILE_NAME), &buf[..whole]).unwrap();
        let before = read("c1");
        drop(DeferredLog::open(&dir, Arc::clone(&db)).unwrap());
        assert_eq!(read("c1"), before);
    }

    #[test]
    fn only_unconditional_or_create_puts_are_logged() {
        assert!(loggable(&[put("P", "a", "1", Expect::Absent), put("P", "b", "1", Expect::Any)]));
        assert!(!loggable(&[put("P", "a", "1", Expect::Version(3))]));
        assert!(!loggable(&[WriteOp::Delete { key: Key::new("P", "a"), expect: Expect::Any }]));
    }
}
