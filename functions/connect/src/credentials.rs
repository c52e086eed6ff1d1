//! Connecting a Sequence account (`POST /v1/sequence/connections`) and rotating its secret
//! (`PUT …/{id}/credentials`). Credentials are checked with the cheapest Sequence read
//! (`GET /sequence-accounts`) before anything is stored: a 401 is the user's mistake; throttling,
//! 5xx, timeouts and network errors are Sequence's, and are never reported as bad credentials.

use crate::connections::view;
use crate::error::{ConnectError, parse_body};
use http::StatusCode;
use serde::Deserialize;
use shared::app::{App, Store};
use shared::connection::{self, ConnectionRecord, ConnectionStatus, StoredCredentials};
use shared::domain::{ConnectionId, Environment, SequenceAccountId};
use shared::org::Principal;
use shared::sequence::{SequenceAccount, SequenceClient, SequenceError};

use shared::store::{Expect, WriteOp};
use shared::web::{HttpResponse, json};
use std::time::Duration;

/// How long the console waits for Sequence (API Gateway gives up at 30 s). The function's Lambda timeout
/// (template.yaml, ConnectFunction) must leave room after it to answer 503 and write what it decided.
pub const CHECK_BUDGET: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectBody {
    client_id: String,
    client_secret: String,
    #[serde(default)]
    environment: Option<Environment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    client_id: String,
    client_secret: String,
}

fn clean(field: &str, v: &str) -> Result<String, ConnectError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 512 || v.chars().any(char::is_control) {
        return Err(ConnectError::BadRequest(format!("{field} must be 1–512 printable characters")));
    }
    Ok(v.to_owned())
}

/// A Sequence client for calls a person waits on (connect, reconnect, rotation, disconnect): three attempts,
/// backoff capped at 2 s, and `budget` for everything.
pub(crate) fn waiting_client<S: Store>(
    app: &App<S>,
    env: Environment,
    creds: &StoredCredentials,
    budget: Duration,
) -> Result<SequenceClient, SequenceError> {
    let mut opts = connection::client_options(&app.config, &app.clock, env);
    opts.max_attempts = 3;
    opts.backoff_cap = Duration::from_secs(2);
    let deadline = app.clock.now_ms() + i64::try_from(budget.as_millis()).unwrap_or(i64::MAX / 4);
    Ok(SequenceClient::with_options(&creds.credentials(), opts)?.with_deadline(Some(deadline)))
}

/// Asks Sequence who these credentials belong to.
async fn check<S: Store>(
    app: &App<S>,
    env: Environment,
    creds: &StoredCredentials,
) -> Result<SequenceAccount, ConnectError> {
    let client =
        waiting_client(app, env, creds, CHECK_BUDGET).map_err(|e| ConnectError::SequenceUnavailable(e.to_string()))?;
    match client.verify_credentials().await {
        Ok(Some(account)) => Ok(account),
        Ok(None) => Err(ConnectError::BadRequest(
            "Sequence accepted these credentials but returned no account; check the API client's access".into(),
        )),
        Err(SequenceError::Unauthorized { .. }) => Err(ConnectError::InvalidCredentials),
        Err(SequenceError::Client { status: 403, .. }) => Err(ConnectError::InvalidCredentials),
        Err(
            e @ (SequenceError::Throttled { .. } | SequenceError::Unavailable { .. } | SequenceError::OutOfTime { .. }),
        ) => Err(ConnectError::SequenceUnavailable(short(&e))),
        Err(e) => {
            tracing::warn!(error = %e, "unexpected answer from Sequence while checking credentials");
            Err(ConnectError::SequenceUnavailable("unexpected answer".into()))
        }
    }
}

fn short(e: &SequenceError) -> String {
    match e {
        SequenceError::Throttled { .. } => "rate limited".into(),
        SequenceError::Unavailable { status: Some(s), .. } => format!("HTTP {s}"),
        SequenceError::Unavailable { .. } => "unreachable".into(),
        SequenceError::OutOfTime { .. } => "timed out".into(),
        _ => "error".into(),
    }
}

pub async fn connect<S: Store>(app: &App<S>, who: &Principal, body: &[u8]) -> Result<HttpResponse, ConnectError> {
    let b: ConnectBody = parse_body(body)?;
    let env = b.environment.unwrap_or(who.mode.paired_environment());
    who.mode.check_pairing(env)?;
    let creds = StoredCredentials {
        client_id: clean("client_id", &b.client_id)?,
        client_secret: clean("client_secret", &b.client_secret)?,
    };
    let account = check(app, env, &creds).await?;
    let account_id = SequenceAccountId::parse(account.id.as_str())
        .map_err(|_| ConnectError::SequenceUnavailable("Sequence returned an unusable account id".into()))?;
    let now = app.now_rfc3339();
    let existing = connection::list(&app.store, &who.org).await?;

    // Reconnecting the same account updates it (and revives a disconnected one, keeping its ledger).
    let same = existing.iter().find(|c| c.value.sequence_account_id == account_id && c.value.environment == env);
    let active_other = existing
        .iter()
        .find(|c| c.value.status != ConnectionStatus::Disconnected && c.value.sequence_account_id != account_id);
    if let Some(other) = active_other {
        return Err(ConnectError::Conflict(format!(
            "this organization is already connected to Sequence account {} ({}); disconnect it first",
            other.value.company_name.as_deref().unwrap_or("unnamed"),
            other.value.sequence_account_id
        )));
    }
    let (before, conn_id, expect) = match same {
        Some(c) => (Some(c.value.clone()), c.value.connection_id.clone(), c.if_unchanged()),
        None => (None, ConnectionId::generate(), Expect::Absent),
    };
    let secret_name = shared::store::secrets::sequence_secret_name(&app.config.secret_prefix, &who.org, &conn_id);
    app.store.put_secret(&secret_name, &creds.to_secret()?, &who.org).await?;
    let mut rec = ConnectionRecord {
        company_name: Some(account.company_name.clone()),
        created_at: before.as_ref().map_or(now.clone(), |b| b.created_at.clone()),
        last_sync: before.as_ref().and_then(|b| b.last_sync.clone()),
        ..ConnectionRecord::active(
            conn_id.clone(),
            who.org.clone(),
            env,
            account_id,
            secret_name,
            &now,
            app.clock.now_ms(),
        )
    };
    // The old subscription (a reconnect) goes before a new one is made: one policy per connection.
    if let Some(b) = &before {
        crate::webhooks::unsubscribe(app, b, Some(&creds)).await;
    }
    rec.webhooks = Some(crate::webhooks::subscribe(app, &rec, &creds).await);
    let marker_current = connection::active_marker(&app.store, &who.org).await?;
    let marker_op = match (&before, marker_current) {
        // the marker may exist for this very connection (a reconnect): keep it as is
        (Some(_), Some(m)) if m.value.connection_id == conn_id.as_str() => None,
        (_, m) => Some(connection::claim_active_marker(&who.org, &conn_id, m.as_ref())?),
    };
    let action = if before.is_some() { "connection.reconnect" } else { "connection.create" };
    let mut ops: Vec<WriteOp> = vec![rec.put(expect)?];
    ops.extend(marker_op);
    ops.push(shared::audit::entry(who, &now, action, conn_id.as_str(), before.as_ref().map(view), Some(view(&rec)))?);
    if let Err(e) = app.store.write(ops).await {
        // A new connection's secret must not outlive the failed connect (it would sit in Secrets Manager with no
        // record pointing at it). A reconnect's secret stays: its connection still points at it.
        crate::webhooks::unsubscribe(app, &rec, Some(&creds)).await;
        if before.is_none()
            && let Err(cleanup) = app.store.delete_secret(&rec.secret_name).await
        {
            tracing::error!(secret_name = %rec.secret_name, error = %cleanup, "connect failed and its new secret could not be removed");
        }
        return Err(if e.is_condition_failed() {
            ConnectError::Conflict("another connection was created at the same time; reload and retry".into())
        } else {
            e.into()
        });
    }
    let status = if before.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    Ok(json(status, &view(&rec)))
}

pub async fn rotate<S: Store>(
    app: &App<S>,
    who: &Principal,
    id: &ConnectionId,
    body: &[u8],
) -> Result<HttpResponse, ConnectError> {
    let current = connection::get(&app.store, &who.org, id).await?.ok_or(ConnectError::NotFound)?;
    if current.value.status == ConnectionStatus::Disconnected {
        return Err(ConnectError::Conflict("this connection is disconnected; connect Sequence again instead".into()));
    }
    let b: RotateBody = parse_body(body)?;
    let creds = StoredCredentials {
        client_id: clean("client_id", &b.client_id)?,
        client_secret: clean("client_secret", &b.client_secret)?,
    };
    let account = check(app, current.value.environment, &creds).await?;
    if account.id != current.value.sequence_account_id.as_str() {
        return Err(ConnectError::Conflict(format!(
            "these credentials belong to another Sequence account ({}); this connection is for {}",
            account.id, current.value.sequence_account_id
        )));
    }
    app.store.put_secret(&current.value.secret_name, &creds.to_secret()?, &who.org).await?;
    let now = app.now_rfc3339();
    let mut after = current.value.clone();
    after.status = ConnectionStatus::Active;
    after.status_reason = None;
    after.updated_at = now.clone();
    after.next_sync_at_ms = Some(app.clock.now_ms());
    // A rotation gets a fresh subscription and signing secret.
    crate::webhooks::unsubscribe(app, &current.value, Some(&creds)).await;
    after.webhooks = Some(crate::webhooks::subscribe(app, &after, &creds).await);
    app.store
        .write(vec![
            after.put(current.if_unchanged())?,
            shared::audit::entry(
                who,
                &now,
                "connection.rotate_credentials",
                id.as_str(),
                Some(view(&current.value)),
                Some(view(&after)),
            )?,
        ])
        .await?;
    Ok(json(StatusCode::OK, &view(&after)))
}
