//! One writer per connection: a lease with an absolute expiry and a monotonic fencing token.
//!
//! Acquiring bumps the fence; every ledger and cursor write of the holder carries a
//! [`WriteOp::CheckFence`] on the lease item, so a holder that was paused past its expiry (and whose
//! lease someone else took) has its writes rejected by the store, not by its own clock. Expiry is an
//! absolute time checked on acquire — never DynamoDB TTL, which is only garbage collection. Release
//! keeps the item (and so the fence) and only clears the expiry.

use super::item::{Expect, Item, ItemStore, Key, StoreError, WriteOp};
use super::record;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseBody {
    holder: String,
    fence: u64,
    expires_at_ms: i64,
}

/// A held lease. Pass [`LeaseGuard::check`] along with every write the holder makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseGuard {
    pub key: Key,
    pub holder: String,
    pub fence: u64,
    pub expires_at_ms: i64,
    version: u64,
}

impl LeaseGuard {
    /// The fencing condition to add to a write.
    pub fn check(&self) -> WriteOp {
        WriteOp::CheckFence { key: self.key.clone(), fence: self.fence }
    }
}

fn lease_item(key: &Key, body: &LeaseBody, version: u64) -> Result<Item, StoreError> {
    let mut item = Item::new(key.clone(), version, record::encode(body)?);
    item.fence = Some(body.fence);
    Ok(item)
}

/// Takes the lease if it is free, expired, or already ours. `None` when another holder has it.
pub async fn acquire<S: ItemStore>(
    store: &S,
    key: &Key,
    holder: &str,
    now_ms: i64,
    duration_ms: i64,
) -> Result<Option<LeaseGuard>, StoreError> {
    let current = store.get(key).await?;
    let (fence, expect) = match &current {
        None => (1, Expect::Absent),
        Some(item) => {
            let body: LeaseBody = record::decode(item)?;
            if body.expires_at_ms > now_ms && body.holder != holder {
                return Ok(None);
            }
            (body.fence + 1, Expect::Version(item.version))
        }
    };
    let version = current.as_ref().map_or(1, |i| i.version + 1);
    let body = LeaseBody { holder: holder.to_owned(), fence, expires_at_ms: now_ms.saturating_add(duration_ms) };
    match store.write(vec![WriteOp::Put { item: lease_item(key, &body, version)?, expect }]).await {
        Ok(()) => Ok(Some(LeaseGuard {
            key: key.clone(),
            holder: body.holder,
            fence,
            expires_at_ms: body.expires_at_ms,
            version,
        })),
        Err(e) if e.is_condition_failed() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Extends a held lease. Fails with `ConditionFailed` if the lease was taken over meanwhile.
pub async fn renew<S: ItemStore>(
    store: &S,
    guard: &mut LeaseGuard,
    now_ms: i64,
    duration_ms: i64,
) -> Result<(), StoreError> {
    let body = LeaseBody {
        holder: guard.holder.clone(),
        fence: guard.fence,
        expires_at_ms: now_ms.saturating_add(duration_ms),
    };
    let version = guard.version + 1;
    store
        .write(vec![WriteOp::Put {
            item: lease_item(&guard.key, &body, version)?,
            expect: Expect::Version(guard.version),
        }])
        .await?;
    guard.version = version;
    guard.expires_at_ms = body.expires_at_ms;
    Ok(())
}

/// Gives the lease up so the next run need not wait for expiry. A lease already taken over is left alone.
pub async fn release<S: ItemStore>(store: &S, guard: LeaseGuard) -> Result<(), StoreError> {
    let body = LeaseBody { holder: String::new(), fence: guard.fence, expires_at_ms: 0 };
    let item = lease_item(&guard.key, &body, guard.version + 1)?;
    match store.write(vec![WriteOp::Put { item, expect: Expect::Version(guard.version) }]).await {
        Err(e) if e.is_condition_failed() => Ok(()),
        other => other,
    }
}
