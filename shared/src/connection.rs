//! Connections: one org ⇄ one Sequence account in one environment. The record holds no secret, only
//! the name of the Secrets Manager secret that does.

use crate::domain::{ConnectionId, Environment, OrgId, SequenceAccountId};
use crate::org::org_pk;
use crate::store::record::{self, Versioned};
use crate::store::{IndexKey, ItemStore, Key, Query, StoreError, WriteOp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    /// Sequence refused the stored credentials; the user must rotate them.
    NeedsAttention,
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub connection_id: ConnectionId,
    pub org_id: OrgId,
    pub environment: Environment,
    pub sequence_account_id: SequenceAccountId,
    pub company_name: Option<String>,
    pub status: ConnectionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub secret_name: String,
    pub created_at: String,
    pub updated_at: String,
    /// Next scheduled sync (epoch ms); drives the sparse `due` index while active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_at_ms: Option<i64>,
    /// The last sync run's summary, as the sync function reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<serde_json::Value>,
}

pub fn connection_key(org: &OrgId, conn: &ConnectionId) -> Key {
    Key::new(org_pk(org), format!("CONN#{conn}"))
}

/// Partition of the `due` index: every connection due for a sync.
pub const DUE_PK: &str = "DUE";

impl ConnectionRecord {
    pub fn key(&self) -> Key {
        connection_key(&self.org_id, &self.connection_id)
    }

    /// The put for this record: active connections with a next sync time are listed in the `due` index.
    pub fn put(&self, expect: crate::store::Expect) -> Result<WriteOp, StoreError> {
        let mut op = record::put(self.key(), self, expect)?;
        if let (WriteOp::Put { item, .. }, ConnectionStatus::Active, Some(at)) =
            (&mut op, self.status, self.next_sync_at_ms)
        {
            item.due =
                Some(IndexKey { pk: DUE_PK.into(), sk: format!("{at:015}#{}#{}", self.org_id, self.connection_id) });
        }
        Ok(op)
    }
}

pub async fn get<S: ItemStore>(
    store: &S,
    org: &OrgId,
    conn: &ConnectionId,
) -> Result<Option<Versioned<ConnectionRecord>>, StoreError> {
    record::get(store, &connection_key(org, conn)).await
}

/// All of an org's connections, disconnected ones included.
pub async fn list<S: ItemStore>(store: &S, org: &OrgId) -> Result<Vec<Versioned<ConnectionRecord>>, StoreError> {
    let mut q = Query::prefix(org_pk(org), "CONN#");
    let mut out = Vec::new();
    loop {
        let page = store.query(&q).await?;
        for item in &page.items {
            out.push(Versioned { value: record::decode(item)?, version: item.version });
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Connections whose next sync is at or before `now_ms` (the dispatcher's query), at most `limit`.
pub async fn due<S: ItemStore>(store: &S, now_ms: i64, limit: usize) -> Result<Vec<ConnectionRecord>, StoreError> {
    let q = Query {
        index: Some(crate::store::Index::Due),
        pk: DUE_PK.into(),
        sk: crate::store::SkRange::Between("0".into(), format!("{now_ms:015}#~")),
        after: None,
        limit,
        descending: false,
    };
    store.query(&q).await?.items.iter().map(record::decode).collect()
}

/// What the connection's secret holds (JSON in Secrets Manager).
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl StoredCredentials {
    pub fn to_secret(&self) -> Result<crate::store::SecretValue, StoreError> {
        serde_json::to_string(self).map(crate::store::SecretValue::new).map_err(|e| StoreError::Invalid(e.to_string()))
    }

    pub fn from_secret(v: &crate::store::SecretValue) -> Result<Self, StoreError> {
        serde_json::from_str(v.expose())
            .map_err(|_| StoreError::Corrupt("stored Sequence credentials are unreadable".into()))
    }

    pub fn credentials(&self) -> crate::sequence::Credentials {
        crate::sequence::Credentials::new(self.client_id.clone(), self.client_secret.clone())
    }
}

/// Sequence client options for `env` as configured (base URL override, request budget, clock).
pub fn client_options(
    config: &crate::config::Config,
    clock: &crate::clock::SharedClock,
    env: Environment,
) -> crate::sequence::ClientOptions {
    crate::sequence::ClientOptions::with_base_url(config.sequence_url(env))
        .clock(clock.clone())
        .requests_per_minute(config.sequence_requests_per_minute)
}

/// Marks the org's one active connection, so two concurrent connects of different accounts cannot
/// both succeed (the second's create-if-absent fails).
pub fn active_marker_key(org: &OrgId) -> Key {
    Key::new(org_pk(org), "ACTIVE_CONNECTION")
}
