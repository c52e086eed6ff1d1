//! Typed records over items: JSON bodies with the item's version carried alongside, so every
//! repository does read-modify-write with the same optimistic-locking rule.

use super::item::{Expect, Item, ItemStore, Key, Query, StoreError, WriteOp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record as read, with the version a later write must expect.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

impl<T> Versioned<T> {
    /// The expectation that makes a write "update-if-version-matches" this read.
    pub fn if_unchanged(&self) -> Expect {
        Expect::Version(self.version)
    }
}

pub fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(&item.body).map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", item.key.pk, item.key.sk)))
}

pub fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Every record `q` matches, decoded ([`ItemStore::query_all`]).
pub async fn query_all<T: DeserializeOwned, S: ItemStore>(store: &S, q: &Query) -> Result<Vec<T>, StoreError> {
    store.query_all(q).await?.iter().map(decode).collect()
}

pub async fn get<T: DeserializeOwned, S: ItemStore>(store: &S, key: &Key) -> Result<Option<Versioned<T>>, StoreError> {
    match store.get(key).await? {
        None => Ok(None),
        Some(item) => Ok(Some(Versioned { value: decode(&item)?, version: item.version })),
    }
}

/// A put of `value` that expects `expect`; the new version follows from it (1 when created).
pub fn put<T: Serialize>(key: Key, value: &T, expect: Expect) -> Result<WriteOp, StoreError> {
    let version = match expect {
        Expect::Version(v) => v + 1,
        Expect::Absent | Expect::Any => 1,
    };
    Ok(WriteOp::Put { item: Item::new(key, version, encode(value)?), expect })
}

/// Expectation for writing over `current` (absent → create-if-absent).
pub fn if_unchanged_or_absent<T>(current: &Option<Versioned<T>>) -> Expect {
    current.as_ref().map_or(Expect::Absent, Versioned::if_unchanged)
}
