//! `…/connections/{id}/api-keys`: issue (shown once), list (display prefixes only), revoke.

use crate::error::ConnectError;
use http::StatusCode;
use serde_json::json;
use shared::api_key::{self, ApiKeyRecord};
use shared::app::{App, Store};
use shared::connection::{self, ConnectionStatus};
use shared::domain::{ConnectionId, KeyId};
use shared::org::Principal;
use shared::web::{HttpResponse, json};

fn view(k: &ApiKeyRecord) -> serde_json::Value {
    json!({
        "id": k.key_id,
        "prefix": k.prefix,
        "livemode": k.mode.is_live(),
        "connection_id": k.connection_id,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    })
}

pub async fn create<S: Store>(
    app: &App<S>,
    who: &Principal,
    conn: &ConnectionId,
) -> Result<HttpResponse, ConnectError> {
    let c = connection::get(&app.store, &who.org, conn).await?.ok_or(ConnectError::NotFound)?;
    if c.value.status == ConnectionStatus::Disconnected {
        return Err(ConnectError::Conflict("this connection is disconnected; connect Sequence again first".into()));
    }
    let (secret_key, parsed) = api_key::generate(who.mode, &app.key_pepper);
    let now = app.now_rfc3339();
    let rec = api_key::create(&app.store, &parsed, &who.org, conn, &now).await?;
    app.store
        .write(vec![shared::audit::entry(who, &now, "api_key.create", rec.key_id.as_str(), None, Some(view(&rec)))?])
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({
            "api_key": secret_key,
            "key": view(&rec),
            "notice": "Copy this key now and paste it into Sequence (Browse integrations → Sphere). You will not see it again.",
        }),
    ))
}

pub async fn list<S: Store>(app: &App<S>, who: &Principal, conn: &ConnectionId) -> Result<HttpResponse, ConnectError> {
    connection::get(&app.store, &who.org, conn).await?.ok_or(ConnectError::NotFound)?;
    let keys = api_key::list(&app.store, &who.org, Some(conn)).await?;
    Ok(json(StatusCode::OK, &json!({"items": keys.iter().map(view).collect::<Vec<_>>()})))
}

pub async fn revoke<S: Store>(
    app: &App<S>,
    who: &Principal,
    conn: &ConnectionId,
    key: &KeyId,
) -> Result<HttpResponse, ConnectError> {
    let now = app.now_rfc3339();
    let existing = api_key::list(&app.store, &who.org, Some(conn)).await?;
    let Some(before) = existing.into_iter().find(|k| &k.key_id == key) else { return Err(ConnectError::NotFound) };
    let rec = api_key::revoke(&app.store, &who.org, key, &now).await?.ok_or(ConnectError::NotFound)?;
    app.store
        .write(vec![shared::audit::entry(
            who,
            &now,
            "api_key.revoke",
            key.as_str(),
            Some(view(&before)),
            Some(view(&rec)),
        )?])
        .await?;
    Ok(json(
        StatusCode::OK,
        &json!({"key": view(&rec), "notice": "Revoked. Tax calls with this key stop within 60 seconds."}),
    ))
}
