//! Organizations (tenants) and the authenticated caller. The org always comes from authentication —
//! console JWT claims in Lambda, the local bearer token in `sphere-local`, or a Sphere API key — and
//! never from a request body. An org's mode is fixed the first time it is seen.

use crate::domain::{Mode, OrgId};
use crate::layout::org_key;
use crate::store::record::{self, Versioned};
use crate::store::{Expect, ItemStore, StoreError};
use serde::{Deserialize, Serialize};

/// Who is calling the console API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org: OrgId,
    pub mode: Mode,
    /// For audit entries: the JWT subject, or "local-console".
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub org_id: OrgId,
    pub mode: Mode,
    pub created_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("organization {org} is a {stored} organization, but the caller claims {claimed}")]
    ModeMismatch { org: OrgId, stored: Mode, claimed: Mode },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Returns the org, creating it with `mode` on first sight; refuses a caller whose mode differs.
pub async fn ensure<S: ItemStore>(store: &S, org: &OrgId, mode: Mode, now: &str) -> Result<OrgRecord, OrgError> {
    for _ in 0..2 {
        if let Some(Versioned { value, .. }) = record::get::<OrgRecord, _>(store, &org_key(org)).await? {
            if value.mode != mode {
                return Err(OrgError::ModeMismatch { org: org.clone(), stored: value.mode, claimed: mode });
            }
            return Ok(value);
        }
        let rec = OrgRecord { org_id: org.clone(), mode, created_at: now.to_owned() };
        match store.write(vec![record::put(org_key(org), &rec, Expect::Absent)?]).await {
            Ok(()) => return Ok(rec),
            Err(e) if e.is_condition_failed() => {} // created concurrently: read it back
            Err(e) => return Err(e.into()),
        }
    }
    Err(OrgError::Store(StoreError::Unavailable("organization record kept changing".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EmbeddedStore;

    #[tokio::test]
    async fn mode_is_fixed_on_first_sight() {
        let dir = std::env::temp_dir().join(format!("org-test-{}", crate::domain::new_uuid()));
        let s = EmbeddedStore::open(&dir).unwrap();
        let org = OrgId::parse("org_a").unwrap();
        assert_eq!(ensure(&s, &org, Mode::Test, "t").await.unwrap().mode, Mode::Test);
        assert_eq!(ensure(&s, &org, Mode::Test, "t2").await.unwrap().created_at, "t");
        assert!(matches!(ensure(&s, &org, Mode::Live, "t").await, Err(OrgError::ModeMismatch { .. })));
    }
}
