//! The audit trail: every create/rotate/revoke/disconnect in the console writes one entry, in the same
//! atomic write as the change it records. Entries never hold secrets or keys (callers pass records
//! that have none).

use crate::domain::OrgId;
use crate::layout::{AUDIT_SK_PREFIX, audit_key, org_pk};
use crate::org::Principal;
use crate::store::record;
use crate::store::{Expect, Query, StoreError, WriteOp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub org_id: OrgId,
    pub action: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

/// The write op adding an audit entry.
pub fn entry(
    who: &Principal,
    now: &str,
    action: &str,
    target: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<WriteOp, StoreError> {
    let e = AuditEntry {
        at: now.to_owned(),
        actor: who.actor.clone(),
        org_id: who.org.clone(),
        action: action.to_owned(),
        target: target.to_owned(),
        before,
        after,
    };
    // Same-millisecond entries of one process keep their order through the sequence number.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = audit_key(&who.org, now, seq, &crate::domain::new_uuid());
    record::put(key, &e, Expect::Absent)
}

/// The org's most recent audit entries, newest first.
pub async fn recent<S: crate::store::ItemStore>(
    store: &S,
    org: &OrgId,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let q = Query { limit, descending: true, ..Query::prefix(org_pk(org), AUDIT_SK_PREFIX) };
    store.query(&q).await?.items.iter().map(record::decode).collect()
}
