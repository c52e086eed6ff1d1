//! API key records. Two items per key: a lookup item under `KEY#{sha256}` (what the tax endpoint reads)
//! and a listing item under the org (what the console lists). Neither holds the key itself.

use super::format::ParsedKey;
use crate::domain::{ConnectionId, KeyId, Mode, OrgId};
use crate::layout::{API_KEY_SK_PREFIX, api_key_listing_key, api_key_lookup_key, org_pk};
use crate::store::record::{self, Versioned};
use crate::store::{Expect, ItemStore, Query, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_id: KeyId,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub mode: Mode,
    /// Non-secret display form.
    pub prefix: String,
    /// SHA-256 of the key (not secret: the key has ~196 random bits).
    pub hash: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// Stores a new key's records (both or neither).
pub async fn create<S: ItemStore>(
    store: &S,
    parsed: &ParsedKey,
    org: &OrgId,
    connection: &ConnectionId,
    now: &str,
) -> Result<ApiKeyRecord, StoreError> {
    let rec = ApiKeyRecord {
        key_id: KeyId::generate(),
        org_id: org.clone(),
        connection_id: connection.clone(),
        mode: parsed.mode,
        prefix: parsed.display.clone(),
        hash: parsed.hash.clone(),
        created_at: now.to_owned(),
        revoked_at: None,
    };
    store
        .write(vec![
            record::put(api_key_lookup_key(&rec.hash), &rec, Expect::Absent)?,
            record::put(api_key_listing_key(org, &rec.key_id), &rec, Expect::Absent)?,
        ])
        .await?;
    Ok(rec)
}

/// The record for a key hash, revoked or not.
pub async fn lookup<S: ItemStore>(store: &S, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
    Ok(record::get::<ApiKeyRecord, _>(store, &api_key_lookup_key(hash)).await?.map(|v| v.value))
}

/// The org's keys, optionally of one connection, oldest first.
pub async fn list<S: ItemStore>(
    store: &S,
    org: &OrgId,
    connection: Option<&ConnectionId>,
) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let mut out: Vec<ApiKeyRecord> = record::query_all(store, &Query::prefix(org_pk(org), API_KEY_SK_PREFIX)).await?;
    out.retain(|rec| connection.is_none_or(|c| *c == rec.connection_id));
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    Ok(out)
}

/// Revokes one key of the org. `Ok(None)` if the org has no such key. Idempotent.
pub async fn revoke<S: ItemStore>(
    store: &S,
    org: &OrgId,
    key_id: &KeyId,
    now: &str,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    for _ in 0..3 {
        let Some(listing) = record::get::<ApiKeyRecord, _>(store, &api_key_listing_key(org, key_id)).await? else {
            return Ok(None);
        };
        if listing.value.revoked_at.is_some() {
            return Ok(Some(listing.value));
        }
        let lookup: Option<Versioned<ApiKeyRecord>> =
            record::get(store, &api_key_lookup_key(&listing.value.hash)).await?;
        let mut rec = listing.value.clone();
        rec.revoked_at = Some(now.to_owned());
        let mut ops = vec![record::put(api_key_listing_key(org, key_id), &rec, listing.if_unchanged())?];
        if let Some(l) = &lookup {
            ops.push(record::put(api_key_lookup_key(&rec.hash), &rec, l.if_unchanged())?);
        }
        match store.write(ops).await {
            Ok(()) => return Ok(Some(rec)),
            Err(e) if e.is_condition_failed() => {}
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Unavailable("API key record kept changing".into()))
}
