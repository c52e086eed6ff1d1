//! Sequence's webhooks, simulated: notification policies (`POST/GET/DELETE /notifications/policies`), and a
//! signed delivery (`Sequence-Signature: t=<ms>,s=<hex HMAC-SHA256(secret, "{t}.{body}")>`) to every subscribed
//! policy on each change made through the control API or [`crate::state::SimState`]. Deliveries are retried
//! (5 attempts, backoff from 100 ms) when the receiver fails or does not answer 2xx, and can be told to be
//! dropped, duplicated, reordered, delayed, or the policy refused (`/_sim/webhooks`).
//!
//! Envelope (research §1.7): `{notificationType, sequenceAccountId, resourceType, resourceId, resource}` with
//! `resource` the document as the API serves it at sending time.

use crate::world::World;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One policy of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub recipients: Vec<String>,
    pub notification_types: Vec<String>,
    pub webhook_secret: String,
}

/// `POST /notifications/policies`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPolicy {
    #[serde(default)]
    pub name: Option<String>,
    pub channel: String,
    pub recipients: Vec<String>,
    pub notification_types: Vec<String>,
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

/// Delivery faults (counters count down per notification).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default)]
pub struct WebhookFaults {
    /// The next N notifications are never sent.
    pub drop_next: u32,
    /// The next N notifications are sent twice.
    pub duplicate_next: u32,
    /// Each batch of queued notifications is sent newest first.
    pub reorder: bool,
    /// Added before each delivery, in milliseconds.
    pub delay_ms: u64,
    /// `POST /notifications/policies` answers this status (e.g. 403: the key may not manage notifications).
    pub refuse_policies: Option<u16>,
}

/// What was sent, for tests and the control API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStats {
    /// Notifications produced by changes (whether or not a policy wanted them).
    pub notifications: u64,
    /// Delivery attempts (retries included).
    pub attempts: u64,
    /// Deliveries answered 2xx.
    pub delivered: u64,
    /// Attempts that failed (transport error or non-2xx).
    pub failed_attempts: u64,
    pub dropped: u64,
    pub duplicated: u64,
}

/// A notification waiting to be sent.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub url: String,
    pub secret: String,
    pub body: String,
}

/// The resource type of a notification type (`INVOICE_UPDATED` → `INVOICE`).
fn resource_type(notification_type: &str) -> &'static str {
    if notification_type.starts_with("CREDIT_NOTE") {
        "CREDIT_NOTE"
    } else if notification_type.starts_with("INVOICE") {
        "INVOICE"
    } else {
        "CUSTOMER"
    }
}

impl World {
    /// Queues `notification_type` for the document `id` to every policy of the account holding it that is
    /// subscribed to the type.
    pub fn notify(&mut self, notification_type: &str, id: &str) {
        self.webhook_stats.notifications += 1;
        let kind = resource_type(notification_type);
        let holds = |acc: &crate::world::Account| match kind {
            "INVOICE" => acc.invoices.get(id).is_some(),
            "CREDIT_NOTE" => acc.credit_notes.get(id).is_some(),
            _ => acc.customers.get(id).is_some(),
        };
        let Some(acc) = self.accounts.iter().find(|a| holds(a)) else { return };
        let resource = match kind {
            "INVOICE" => {
                acc.invoice(id).ok().and_then(|r| serde_json::to_value(crate::render::invoice_response(acc, r)).ok())
            }
            "CREDIT_NOTE" => acc.credit_note(id).ok().and_then(|r| serde_json::to_value(&r.credit_note).ok()),
            _ => acc.customer(id).ok().and_then(|r| serde_json::to_value(r.response()).ok()),
        };
        let body = serde_json::json!({
            "notificationType": notification_type,
            "sequenceAccountId": acc.info.id,
            "resourceType": kind,
            "resourceId": id,
            "resource": resource,
        })
        .to_string();
        let mut queued = Vec::new();
        for p in acc.policies.iter().filter(|p| p.notification_types.iter().any(|t| t == notification_type)) {
            for url in &p.recipients {
                queued.push(Outgoing { url: url.clone(), secret: p.webhook_secret.clone(), body: body.clone() });
            }
        }
        self.outbox.extend(queued);
    }

    /// Takes the queued notifications in sending order, applying drop / duplicate / reorder.
    fn take_outbox(&mut self) -> Vec<Outgoing> {
        let mut batch: Vec<Outgoing> = std::mem::take(&mut self.outbox);
        if self.webhook_faults.reorder && batch.len() > 1 {
            batch.reverse();
        }
        let mut out = Vec::with_capacity(batch.len());
        for o in batch {
            if self.webhook_faults.drop_next > 0 {
                self.webhook_faults.drop_next -= 1;
                self.webhook_stats.dropped += 1;
                continue;
            }
            if self.webhook_faults.duplicate_next > 0 {
                self.webhook_faults.duplicate_next -= 1;
                self.webhook_stats.duplicated += 1;
                out.push(o.clone());
            }
            out.push(o);
        }
        out
    }
}

/// The delivery loop: every 20 ms, sends what changes queued (each delivery on its own task, retried).
pub(crate) async fn deliver(state: crate::state::SimState) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (batch, delay) = state.with(|w| (w.take_outbox(), w.webhook_faults.delay_ms));
        for o in batch {
            let state = state.clone();
            tokio::spawn(async move { send(&state, o, delay).await });
        }
    }
}

async fn send(state: &crate::state::SimState, o: Outgoing, delay_ms: u64) {
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    let mut backoff = Duration::from_millis(100);
    for _ in 0..5 {
        let t = state.with(|w| w.clock.now_ms());
        let signature = shared::webhook::sign(o.secret.as_bytes(), t, o.body.as_bytes());
        state.with(|w| w.webhook_stats.attempts += 1);
        let sent = state
            .http
            .post(&o.url)
            .header("content-type", "application/json")
            .header("Sequence-Signature", signature)
            .body(o.body.clone())
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if sent.as_ref().is_ok_and(|r| r.status().is_success()) {
            state.with(|w| w.webhook_stats.delivered += 1);
            return;
        }
        state.with(|w| w.webhook_stats.failed_attempts += 1);
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}
