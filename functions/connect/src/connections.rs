//! `/v1/sequence/connections…`: list, read, disconnect and "sync now". (Connecting and rotating
//! credentials, which check them against Sequence, live in `credentials.rs`.)

use crate::error::ConnectError;
use http::StatusCode;
use serde_json::json;
use shared::app::{App, Store};
use shared::connection::{self, ConnectionRecord, ConnectionStatus, StoredCredentials};
use shared::domain::ConnectionId;
use shared::org::Principal;
use shared::queue::SyncMessage;
use shared::web::{HttpResponse, json};

/// The console's view of a connection (no secret, not even its name). While its sync runs fail,
/// `sync_failure` says since when, how often in a row, why, and when it is retried (`retry_at_ms`, the
/// backoff's slot); `null` when healthy.
pub fn view(c: &ConnectionRecord) -> serde_json::Value {
    let failure = c.sync_failure.as_ref().map(|f| {
        json!({
            "consecutive_failures": f.consecutive,
            "failing_since_ms": f.since_ms,
            "last_failed_at_ms": f.last_at_ms,
            "last_error": f.last_error,
            "retry_at_ms": c.next_sync_at_ms.filter(|_| c.status == ConnectionStatus::Active),
        })
    });
    json!({
        "id": c.connection_id,
        "environment": c.environment,
        "sequence_account_id": c.sequence_account_id,
        "company_name": c.company_name,
        "status": c.status,
        "status_reason": c.status_reason,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "next_sync_at_ms": c.next_sync_at_ms,
        "last_sync": c.last_sync,
        "sync_failure": failure,
        "webhooks": c.webhooks.as_ref().map(|w| json!({"enabled": w.enabled, "reason": w.reason})),
    })
}

pub async fn list<S: Store>(app: &App<S>, who: &Principal) -> Result<HttpResponse, ConnectError> {
    let items: Vec<_> = connection::list(&app.store, &who.org).await?.iter().map(|c| view(&c.value)).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items })))
}

pub async fn get<S: Store>(app: &App<S>, who: &Principal, id: &ConnectionId) -> Result<HttpResponse, ConnectError> {
    let c = connection::get(&app.store, &who.org, id).await?.ok_or(ConnectError::NotFound)?;
    Ok(json(StatusCode::OK, &view(&c.value)))
}

/// Disconnect: revoke the connection's keys, stop its sync, schedule the secret's deletion, keep the ledger.
pub async fn disconnect<S: Store>(
    app: &App<S>,
    who: &Principal,
    id: &ConnectionId,
) -> Result<HttpResponse, ConnectError> {
    let current = connection::get(&app.store, &who.org, id).await?.ok_or(ConnectError::NotFound)?;
    let now = app.now_rfc3339();
    for key in shared::api_key::list(&app.store, &who.org, Some(id)).await? {
        if key.revoked_at.is_none() {
            shared::api_key::revoke(&app.store, &who.org, &key.key_id, &now).await?;
        }
    }
    // The webhook subscription goes first, while the credentials to reach Sequence still exist.
    let creds = match app.store.get_secret(&current.value.secret_name).await {
        Ok(Some(v)) => StoredCredentials::from_secret(&v).ok(),
        _ => None,
    };
    crate::webhooks::unsubscribe(app, &current.value, creds.as_ref()).await;
    let mut after = current.value.clone();
    after.webhooks = None;
    after.status = ConnectionStatus::Disconnected;
    after.status_reason = Some("disconnected by the user".into());
    after.next_sync_at_ms = None;
    after.updated_at = now.clone();
    let marker_op = match connection::active_marker(&app.store, &who.org).await? {
        Some(m) if m.value.connection_id == id.as_str() => Some(connection::release_active_marker(&who.org, &m)),
        _ => None,
    };
    app.store
        .write(
            vec![
                after.put(current.if_unchanged())?,
                shared::audit::entry(
                    who,
                    &now,
                    "connection.disconnect",
                    id.as_str(),
                    Some(view(&current.value)),
                    Some(view(&after)),
                )?,
            ]
            .into_iter()
            .chain(marker_op)
            .collect(),
        )
        .await?;
    app.store.delete_secret(&current.value.secret_name).await?;
    Ok(json(StatusCode::OK, &view(&after)))
}

/// "Sync now": queue one run for this connection.
pub async fn sync_now<S: Store>(
    app: &App<S>,
    who: &Principal,
    id: &ConnectionId,
) -> Result<HttpResponse, ConnectError> {
    let c = connection::get(&app.store, &who.org, id).await?.ok_or(ConnectError::NotFound)?;
    if c.value.status == ConnectionStatus::Disconnected {
        return Err(ConnectError::Conflict("this connection is disconnected".into()));
    }
    let job = SyncMessage {
        org_id: who.org.clone(),
        connection_id: id.clone(),
        reason: "manual".into(),
        dedup_id: shared::domain::new_uuid(),
        targets: Vec::new(),
    };
    app.queue.enqueue(job).await.map_err(|e| ConnectError::SequenceUnavailable(e.to_string()))?;
    Ok(json(StatusCode::ACCEPTED, &json!({"queued": true, "connection_id": id})))
}
