//! Verified API keys, cached per warm container for at most the configured bound (≤ 60 s). This bound
//! is the documented revocation delay: a revoked key stops working within it. While the store is
//! unreachable, a key verified within the bound still works; any other key gets an error, never a
//! silent answer.

use super::repo::ApiKeyRecord;
use std::collections::HashMap;
use std::sync::Mutex;

/// Most keys remembered; beyond it the cache starts over (keys are few per container).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Option<ApiKeyRecord>, i64)>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCache")
    }
}

impl KeyCache {
    /// The cached verdict for a hash if younger than `ttl_ms`: `Some(None)` = known bad.
    pub fn get(&self, hash: &str, now_ms: i64, ttl_ms: i64) -> Option<Option<ApiKeyRecord>> {
        let entries = self.entries.lock().ok()?;
        let (rec, at) = entries.get(hash)?;
        (now_ms - at < ttl_ms && now_ms >= *at).then(|| rec.clone())
    }

    pub fn put(&self, hash: &str, rec: Option<ApiKeyRecord>, now_ms: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(hash.to_owned(), (rec, now_ms));
        }
    }
}
