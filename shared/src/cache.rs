//! Per-container caches with one freshness bound (`KEY_CACHE_SECONDS`, ≤ 60 s), for the tax endpoint's
//! hot path: verified API keys, each org's tax settings, product tax codes and customer exemptions.
//!
//! The bound is the documented delay for a change to reach a warm container (a revoked key, a new
//! registration, a reassigned tax code). While the store is unreachable, entries older than the bound
//! are still served for what was already verified, so a store outage does not fail invoices of
//! callers seen recently; nothing never seen is ever guessed.

use crate::api_key::ApiKeyRecord;
use crate::domain::{ConnectionId, OrgId};
use crate::ledger::catalog::CustomerExemption;
use crate::tax::OrgTaxSettings;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Most entries per cache; beyond it the cache starts over (cheap, and bounded memory).
const MAX_ENTRIES: usize = 10_000;

/// The caches of one warm container (one `App`).
#[derive(Debug, Default)]
pub struct Caches {
    /// Key hash → the key's record (`None`: unknown or revoked). Served only while fresh.
    pub keys: TtlCache<String, Option<ApiKeyRecord>>,
    /// Org → its tax settings and default product tax code.
    pub tax_settings: TtlCache<OrgId, (OrgTaxSettings, Option<String>)>,
    /// (org, connection, product id) → the tax code assigned to the product, if any.
    pub product_codes: TtlCache<(OrgId, ConnectionId, String), Option<String>>,
    /// (org, connection, customer id) → the synced customer's exemption (`None`: not synced).
    pub customer_exemption: TtlCache<(OrgId, ConnectionId, String), Option<CustomerExemption>>,
    /// API key → its request bucket in this container (the tax API's per-key limit).
    key_limits: Mutex<HashMap<String, std::sync::Arc<crate::sequence::RateLimiter>>>,
}

impl Caches {
    /// The request bucket of one API key (`per_minute`, bursts of a tenth), created on first use. Bounded like the
    /// caches: beyond [`MAX_ENTRIES`] keys the map starts over (a key then gets a full bucket again).
    pub fn key_limiter(
        &self,
        key_id: &str,
        per_minute: u32,
        clock: &crate::clock::SharedClock,
    ) -> std::sync::Arc<crate::sequence::RateLimiter> {
        let mut map = match self.key_limits.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= MAX_ENTRIES && !map.contains_key(key_id) {
            map.clear();
        }
        map.entry(key_id.to_owned())
            .or_insert_with(|| std::sync::Arc::new(crate::sequence::RateLimiter::new(per_minute, clock.clone())))
            .clone()
    }

    /// After a console change in this process (settings, registrations, tax codes, a customer's exemption
    /// scope): forget the org's tax context so the next calculation reads it afresh. Other containers pick it up
    /// within the bound.
    pub fn forget_tax_context(&self) {
        self.tax_settings.clear();
        self.product_codes.clear();
        self.customer_exemption.clear();
    }
}

pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, i64)>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        TtlCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TtlCache")
    }
}

/// A cached value and whether it is within the freshness bound.
pub struct Cached<V> {
    pub value: V,
    pub fresh: bool,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn get(&self, key: &K, now_ms: i64, ttl_ms: i64) -> Option<Cached<V>> {
        let entries = self.entries.lock().ok()?;
        let (value, at) = entries.get(key)?;
        Some(Cached { value: value.clone(), fresh: now_ms >= *at && now_ms - at < ttl_ms })
    }

    /// Entries held (fresh or not).
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    pub fn put(&self, key: K, value: V, now_ms: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (value, now_ms));
        }
    }

    /// The fresh cached value, else `load()` (cached on success), else — when `load` fails — a stale
    /// cached value, else the error.
    pub async fn get_or_load<E, F>(&self, key: K, now_ms: i64, ttl_ms: i64, load: F) -> Result<V, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
    {
        let cached = self.get(&key, now_ms, ttl_ms);
        if let Some(Cached { value, fresh: true }) = cached {
            return Ok(value);
        }
        match load.await {
            Ok(v) => {
                self.put(key, v.clone(), now_ms);
                Ok(v)
            }
            Err(e) => match cached {
                Some(Cached { value, .. }) => Ok(value),
                None => Err(e),
            },
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    /// [`TtlCache::get_or_load`] for many keys at once: fresh entries from the cache, all the others in one
    /// call of `load` (given the distinct keys to load, answering in their order), so a request's keys cost one
    /// batched store read. When `load` fails, stale entries answer if every key to load has one; else the error.
    pub async fn get_many_or_load<E, F, Fut>(&self, keys: &[K], now_ms: i64, ttl_ms: i64, load: F) -> Result<Vec<V>, E>
    where
        F: FnOnce(Vec<K>) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<V>, E>>,
    {
        let mut known: HashMap<K, Cached<V>> = HashMap::new();
        let mut wanted: Vec<K> = Vec::new();
        let mut seen: std::collections::HashSet<&K> = std::collections::HashSet::new();
        for k in keys {
            if !seen.insert(k) {
                continue;
            }
            match self.get(k, now_ms, ttl_ms) {
                Some(c) if c.fresh => {
                    known.insert(k.clone(), c);
                }
                stale => {
                    if let Some(c) = stale {
                        known.insert(k.clone(), c);
                    }
                    wanted.push(k.clone());
                }
            }
        }
        if !wanted.is_empty() {
            match load(wanted.clone()).await {
                Ok(values) => {
                    for (k, v) in wanted.into_iter().zip(values) {
                        self.put(k.clone(), v.clone(), now_ms);
                        known.insert(k, Cached { value: v, fresh: true });
                    }
                }
                Err(_) if wanted.iter().all(|k| known.contains_key(k)) => {}
                Err(e) => return Err(e),
            }
        }
        // every key is known now: loaded, fresh, or (the store failing) stale
        Ok(keys.iter().filter_map(|k| known.get(k).map(|c| c.value.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn many_keys_load_once_and_fall_back_to_stale_values() {
        let c: TtlCache<u32, u32> = TtlCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let load = |ks: Vec<u32>| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { Ok::<_, ()>(ks.iter().map(|k| k * 10).collect()) }
        };
        assert_eq!(c.get_many_or_load(&[1, 2, 1, 3], 0, 60_000, load).await, Ok(vec![10, 20, 10, 30]));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "one load for all keys");
        // fresh: no load at all; one new key: one load of that key only
        let only_4 = |ks: Vec<u32>| async move {
            assert_eq!(ks, vec![4]);
            Ok::<_, ()>(vec![40])
        };
        assert_eq!(c.get_many_or_load(&[3, 4], 1, 60_000, only_4).await, Ok(vec![30, 40]));
        // stale and the store fails: stale values; a key never seen makes it fail
        let fail = |_: Vec<u32>| async { Err::<Vec<u32>, _>(()) };
        assert_eq!(c.get_many_or_load(&[1, 2], 120_000, 60_000, fail).await, Ok(vec![10, 20]));
        assert_eq!(c.get_many_or_load(&[1, 9], 120_000, 60_000, fail).await, Err(()));
    }

    #[tokio::test]
    async fn fresh_then_reload_then_stale_on_failure() {
        let c: TtlCache<&str, u32> = TtlCache::default();
        assert_eq!(c.get_or_load("k", 0, 60_000, async { Ok::<_, ()>(1) }).await, Ok(1));
        // fresh: the loader is not consulted
        assert_eq!(c.get_or_load("k", 59_999, 60_000, async { Ok::<_, ()>(2) }).await, Ok(1));
        // stale: reloaded
        assert_eq!(c.get_or_load("k", 60_000, 60_000, async { Ok::<_, ()>(3) }).await, Ok(3));
        // stale and the store fails: the last known value
        assert_eq!(c.get_or_load("k", 200_000, 60_000, async { Err::<u32, _>(()) }).await, Ok(3));
        // never seen and the store fails: the error
        assert_eq!(c.get_or_load("other", 0, 60_000, async { Err::<u32, _>(()) }).await, Err(()));
        assert!(c.get(&"k", 200_000, 60_000).is_some_and(|x| !x.fresh));
    }
}
