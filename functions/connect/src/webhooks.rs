//! Webhook subscriptions: at connect, reconnect and credential rotation, one notification policy in the Sequence
//! account for this connection's endpoint (`{WEBHOOK_BASE_URL}/webhooks/sequence/{token}`, the token random and
//! unguessable), signed with a fresh secret kept in Secrets Manager beside the Sequence credentials; at
//! disconnect (and before a new one) the old policy, its route and its secret are removed.
//!
//! A refusal never fails the connection: without webhooks it syncs on its schedule, and the console says that
//! webhooks are off and why.

use shared::app::{App, Store};
use shared::connection::{ConnectionRecord, StoredCredentials, WebhookRoute, Webhooks, webhook_secret_name};
use shared::sequence::{NewNotificationPolicy, SequenceClient, SequenceError};
use shared::store::{Expect, SecretValue, WriteOp};
use std::time::Duration;

/// A person is waiting on connect: Sequence gets this long to create the policy.
const BUDGET: Duration = Duration::from_secs(8);

fn client<S: Store>(app: &App<S>, rec: &ConnectionRecord, creds: &StoredCredentials) -> Option<SequenceClient> {
    crate::credentials::waiting_client(app, rec.environment, creds, BUDGET).ok()
}

fn off(reason: impl Into<String>) -> Webhooks {
    Webhooks { enabled: false, policy_id: None, token: None, reason: Some(reason.into()) }
}

/// Why Sequence's refusal means webhooks are off, in words for the console.
fn refusal(e: &SequenceError) -> String {
    match e {
        SequenceError::Client { status, message, .. } => format!(
            "Sequence refused the webhook subscription (HTTP {status}{}); changes arrive with the scheduled sync",
            message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
        ),
        SequenceError::Unauthorized { .. } => {
            "Sequence refused these credentials for webhook subscriptions; changes arrive with the scheduled sync"
                .into()
        }
        other => format!(
            "Sequence could not create the webhook subscription ({other}); changes arrive with the scheduled sync"
        ),
    }
}

/// Creates the connection's policy, secret and route; returns what to store on the connection record.
pub async fn subscribe<S: Store>(app: &App<S>, rec: &ConnectionRecord, creds: &StoredCredentials) -> Webhooks {
    let Some(base) = app.config.webhook_base_url.as_deref() else {
        return off("no public webhook URL is configured (WEBHOOK_BASE_URL); changes arrive with the scheduled sync");
    };
    let Some(client) = client(app, rec, creds) else { return off("the Sequence client could not be built") };
    let token = shared::crypto::hex(&shared::crypto::random_bytes(32));
    let mut secret = format!("whsec_{}", shared::crypto::hex(&shared::crypto::random_bytes(24)));
    let secret_name = webhook_secret_name(&rec.secret_name);
    let policy = NewNotificationPolicy {
        name: format!("Sphere tax ledger ({})", rec.connection_id),
        channel: "WEBHOOK".into(),
        recipients: vec![format!("{base}/webhooks/sequence/{token}")],
        notification_types: shared::webhook::SUBSCRIBED.iter().map(|t| (*t).to_owned()).collect(),
        webhook_secret: secret.clone(),
    };
    let created = match client.create_notification_policy(&policy).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(connection = %rec.connection_id, error = %e, "webhook subscription refused: schedule only");
            return off(refusal(&e));
        }
    };
    if let Some(theirs) = created.webhook_secret.as_ref().filter(|s| !s.is_empty()) {
        // Sequence signs with the secret it answers with, when it answers with one.
        secret.clone_from(theirs);
    }
    let route = WebhookRoute {
        org_id: rec.org_id.clone(),
        connection_id: rec.connection_id.clone(),
        sequence_account_id: rec.sequence_account_id.clone(),
        secret_name: secret_name.clone(),
    };
    let stored = match app.store.put_secret(&secret_name, &SecretValue::new(secret), &rec.org_id).await {
        Err(e) => Err(e.to_string()),
        Ok(()) => match shared::store::record::put(shared::layout::webhook_route_key(&token), &route, Expect::Any) {
            Ok(op) => app.store.write(vec![op]).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
    };
    if let Err(e) = stored {
        tracing::warn!(connection = %rec.connection_id, error = %e, "webhook secret or route not stored: removing the policy");
        let _ = client.delete_notification_policy(&created.id).await;
        return off("the webhook secret could not be stored; changes arrive with the scheduled sync");
    }
    Webhooks { enabled: true, policy_id: Some(created.id), token: Some(token), reason: None }
}

/// Removes what [`subscribe`] made (best effort: a policy Sequence keeps would only post to a route that no
/// longer exists, answered 404). `creds`: the credentials to reach Sequence with, when still at hand.
pub async fn unsubscribe<S: Store>(app: &App<S>, rec: &ConnectionRecord, creds: Option<&StoredCredentials>) {
    let Some(w) = rec.webhooks.as_ref() else { return };
    if let (Some(policy), Some(creds)) = (w.policy_id.as_deref(), creds)
        && let Some(client) = client(app, rec, creds)
        && let Err(e) = client.delete_notification_policy(policy).await
    {
        tracing::warn!(connection = %rec.connection_id, error = %e, "the webhook policy could not be deleted in Sequence");
    }
    if let Some(token) = w.token.as_deref() {
        let op = WriteOp::Delete { key: shared::layout::webhook_route_key(token), expect: Expect::Any };
        if let Err(e) = app.store.write(vec![op]).await {
            tracing::warn!(connection = %rec.connection_id, error = %e, "the webhook route could not be removed");
        }
    }
    if w.enabled
        && let Err(e) = app.store.delete_secret(&webhook_secret_name(&rec.secret_name)).await
    {
        tracing::warn!(connection = %rec.connection_id, error = %e, "the webhook secret could not be removed");
    }
}
