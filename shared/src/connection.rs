//! Connections: one org ⇄ one Sequence account in one environment. The record holds no secret, only
//! the name of the Secrets Manager secret that does.

use crate::domain::{ConnectionId, Environment, OrgId, SequenceAccountId};
use crate::layout::{CONNECTION_SK_PREFIX, DUE_PK, active_marker_key, connection_key, due_sk, due_sk_until, org_pk};
use crate::store::record::{self, Versioned};
use crate::store::{IndexKey, ItemStore, Key, Query, StoreError, WriteOp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Scheduled; a failing one stays active and is retried with backoff (see [`SyncFailure`]).
    Active,
    /// Sequence refused the stored credentials (or they are gone); the user must rotate them. Out of
    /// the schedule until then: retrying cannot help.
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
    /// Set while sync runs fail (anything but a refusal of the credentials); cleared by the next
    /// successful run. While set, `next_sync_at_ms` is the retry time of the backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_failure: Option<SyncFailure>,
    /// The connection's webhook subscription in Sequence (issue 19); `None` on records from before webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Webhooks>,
}

/// Whether Sequence sends this connection webhooks, and why not when it does not.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhooks {
    /// `true`: a notification policy exists in Sequence for our endpoint; `false`: the schedule alone syncs.
    pub enabled: bool,
    /// Sequence's id of the policy (to delete it at disconnect or reconnect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// The path token of this connection's endpoint, `/webhooks/sequence/{token}` (a capability: not logged,
    /// not shown by the console; the route record holds only its hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Why webhooks are off (Sequence refused the policy, no public URL configured, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("enabled", &self.enabled)
            .field("policy_id", &self.policy_id)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// The route record of a webhook token: which connection it reaches and where the signing secret is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRoute {
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub sequence_account_id: SequenceAccountId,
    /// Secrets Manager name of the signing secret (`{credentials secret}/webhook`).
    pub secret_name: String,
}

/// The name of a connection's webhook signing secret: beside its Sequence credentials.
pub fn webhook_secret_name(credentials_secret: &str) -> String {
    format!("{credentials_secret}/webhook")
}

/// Why a connection's recent sync runs failed, kept on the record for the console and the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFailure {
    /// Failed runs in a row (at least 1); drives the backoff.
    pub consecutive: u32,
    /// When the first of them failed (epoch ms).
    pub since_ms: i64,
    /// When the last one failed (epoch ms).
    pub last_at_ms: i64,
    /// The last failure's reason (run outcomes carry no secret).
    pub last_error: String,
}

/// The longest failure reason kept on the record.
const MAX_ERROR_CHARS: usize = 500;

impl ConnectionRecord {
    /// A new active connection, due at once: no company name, sync run, failure or webhook subscription yet
    /// (connect fills in what it learns; tests start from here).
    pub fn active(
        connection_id: ConnectionId,
        org_id: OrgId,
        environment: Environment,
        sequence_account_id: SequenceAccountId,
        secret_name: String,
        now: &str,
        now_ms: i64,
    ) -> Self {
        Self {
            connection_id,
            org_id,
            environment,
            sequence_account_id,
            company_name: None,
            status: ConnectionStatus::Active,
            status_reason: None,
            secret_name,
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
            next_sync_at_ms: Some(now_ms),
            last_sync: None,
            sync_failure: None,
            webhooks: None,
        }
    }

    pub fn key(&self) -> Key {
        connection_key(&self.org_id, &self.connection_id)
    }

    /// Failed sync runs in a row (0 when healthy).
    pub fn consecutive_failures(&self) -> u32 {
        self.sync_failure.as_ref().map_or(0, |f| f.consecutive)
    }

    /// The dispatcher's move after queueing a due connection: its next slot by the schedule rule
    /// (the interval when healthy, the backoff while failing), so it is not queued twice meanwhile.
    pub fn reschedule(&mut self, now_ms: i64, interval: std::time::Duration) {
        self.next_sync_at_ms =
            Some(crate::sync::schedule::next_sync_at_ms(now_ms, interval, self.consecutive_failures()));
    }

    /// A failed run: one more failure in a row, and the retry at `now + backoff`. The status is left
    /// as it is — an active connection stays active and scheduled; only a refusal of the
    /// credentials makes one `needs_attention`, and that is not this. A disconnected one is left alone.
    pub fn record_failure(&mut self, now_ms: i64, interval: std::time::Duration, reason: &str) {
        if self.status == ConnectionStatus::Disconnected {
            return;
        }
        let last_error: String = reason.chars().take(MAX_ERROR_CHARS).collect();
        self.sync_failure = Some(match self.sync_failure.take() {
            Some(f) => {
                SyncFailure { consecutive: f.consecutive.saturating_add(1), last_at_ms: now_ms, last_error, ..f }
            }
            None => SyncFailure { consecutive: 1, since_ms: now_ms, last_at_ms: now_ms, last_error },
        });
        self.reschedule(now_ms, interval);
    }

    /// A successful run (started at `started_ms`): the failure state is cleared and a connection that
    /// was failing goes back to its normal slot, counted from the run's start (its backoff slot may be
    /// hours away). A healthy one keeps the slot the dispatcher gave it.
    pub fn record_success(&mut self, started_ms: i64, interval: std::time::Duration) {
        if self.sync_failure.take().is_some() && self.status != ConnectionStatus::Disconnected {
            self.reschedule(started_ms, interval);
        }
    }

    /// The put for this record: active connections with a next sync time are listed in the `due` index.
    pub fn put(&self, expect: crate::store::Expect) -> Result<WriteOp, StoreError> {
        let mut op = record::put(self.key(), self, expect)?;
        if let (WriteOp::Put { item, .. }, ConnectionStatus::Active, Some(at)) =
            (&mut op, self.status, self.next_sync_at_ms)
        {
            item.due = Some(IndexKey { pk: DUE_PK.into(), sk: due_sk(at, &self.org_id, &self.connection_id) });
        }
        Ok(op)
    }
}

/// The org's one-active-connection marker: which connection holds it. Two concurrent connects of different
/// accounts cannot both succeed, since the second's create-if-absent of the marker fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveMarker {
    pub connection_id: String,
}

/// The org's marker, if a connection holds it.
pub async fn active_marker<S: ItemStore>(
    store: &S,
    org: &OrgId,
) -> Result<Option<Versioned<ActiveMarker>>, StoreError> {
    record::get(store, &active_marker_key(org)).await
}

/// The write that makes `conn` the holder, over `current` (create-if-absent when there is none).
pub fn claim_active_marker(
    org: &OrgId,
    conn: &ConnectionId,
    current: Option<&Versioned<ActiveMarker>>,
) -> Result<WriteOp, StoreError> {
    let expect = current.map_or(crate::store::Expect::Absent, Versioned::if_unchanged);
    record::put(active_marker_key(org), &ActiveMarker { connection_id: conn.as_str().to_owned() }, expect)
}

/// The write that frees the marker `current`.
pub fn release_active_marker(org: &OrgId, current: &Versioned<ActiveMarker>) -> WriteOp {
    WriteOp::Delete { key: active_marker_key(org), expect: current.if_unchanged() }
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
    let items = store.query_all(&Query::prefix(org_pk(org), CONNECTION_SK_PREFIX)).await?;
    items.iter().map(|item| Ok(Versioned { value: record::decode(item)?, version: item.version })).collect()
}

/// Connections whose next sync is at or before `now_ms` (the dispatcher's query), at most `limit`.
pub async fn due<S: ItemStore>(store: &S, now_ms: i64, limit: usize) -> Result<Vec<ConnectionRecord>, StoreError> {
    let q = Query {
        index: Some(crate::store::Index::Due),
        pk: DUE_PK.into(),
        sk: crate::store::SkRange::Between("0".into(), due_sk_until(now_ms)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const MIN: i64 = 60_000;
    const QUARTER: Duration = Duration::from_secs(15 * 60);

    fn rec() -> ConnectionRecord {
        ConnectionRecord {
            connection_id: ConnectionId::parse("c1").unwrap(),
            org_id: OrgId::parse("o1").unwrap(),
            environment: Environment::Sandbox,
            sequence_account_id: SequenceAccountId::parse("acc").unwrap(),
            company_name: None,
            status: ConnectionStatus::Active,
            status_reason: None,
            secret_name: "s".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            next_sync_at_ms: Some(0),
            last_sync: None,
            sync_failure: None,
            webhooks: None,
        }
    }

    #[test]
    fn failures_keep_the_connection_active_and_back_off_until_a_success_clears_them() {
        let mut c = rec();
        c.record_failure(100 * MIN, QUARTER, "HTTP 500");
        assert_eq!(
            (c.status, c.consecutive_failures(), c.next_sync_at_ms),
            (ConnectionStatus::Active, 1, Some(105 * MIN))
        );
        c.record_failure(105 * MIN, QUARTER, "HTTP 502");
        let f = c.sync_failure.clone().unwrap();
        assert_eq!(
            (f.consecutive, f.since_ms, f.last_at_ms, f.last_error.as_str()),
            (2, 100 * MIN, 105 * MIN, "HTTP 502")
        );
        assert_eq!(c.next_sync_at_ms, Some(115 * MIN));
        // the dispatcher, queueing it while failing, moves it by the same rule
        c.reschedule(115 * MIN, QUARTER);
        assert_eq!(c.next_sync_at_ms, Some(125 * MIN));
        c.record_success(120 * MIN, QUARTER);
        assert_eq!((c.sync_failure.as_ref(), c.next_sync_at_ms), (None, Some(134 * MIN)));
        // a success on a healthy connection keeps the dispatcher's slot
        c.next_sync_at_ms = Some(999);
        c.record_success(120 * MIN, QUARTER);
        assert_eq!(c.next_sync_at_ms, Some(999));
    }

    #[test]
    fn failure_reasons_are_bounded_and_disconnected_connections_are_left_alone() {
        let mut c = rec();
        c.record_failure(0, QUARTER, &"x".repeat(10_000));
        assert_eq!(c.sync_failure.unwrap().last_error.len(), MAX_ERROR_CHARS);
        let mut d = rec();
        d.status = ConnectionStatus::Disconnected;
        d.next_sync_at_ms = None;
        d.record_failure(0, QUARTER, "late run");
        assert_eq!((d.sync_failure, d.next_sync_at_ms), (None, None));
    }

    #[test]
    fn records_without_failure_fields_still_read() {
        let mut v = serde_json::to_value(rec()).unwrap();
        assert!(v.get("sync_failure").is_none(), "absent when healthy");
        v.as_object_mut().unwrap().remove("next_sync_at_ms");
        let back: ConnectionRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back.sync_failure, None);
    }
}
