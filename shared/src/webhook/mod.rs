//! Sequence webhooks, pure: the signature (`Sequence-Signature: t=<unix ms>,s=<hex HMAC-SHA256(secret,
//! "{t}.{raw body}")>`, research §1.7), the notification envelope, and what a notification asks of the sync.
//!
//! Why a webhook only names work: its body is never trusted as the document's state. A notification for an
//! invoice, a credit note or a customer becomes a targeted job that re-fetches that document from Sequence and
//! upserts it under the connection's lease, with the same rules as the scheduled sync; the schedule stays the
//! source of truth and catches whatever a webhook missed.

mod signature;

pub use signature::{SignatureError, TOLERANCE_MS, sign, verify};

use crate::sync::cursor::Stream;
use serde::{Deserialize, Serialize};

/// The HTTP header carrying the signature.
pub const SIGNATURE_HEADER: &str = "sequence-signature";

/// Largest webhook body accepted (Sequence's envelope carries one resource; 256 KiB is far above it).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long a delivered notification is remembered against replays.
pub const REPLAY_WINDOW_SECS: i64 = 24 * 3600;

/// The notification types we subscribe to: the documents the ledger holds.
pub const SUBSCRIBED: &[&str] = &[
    "INVOICE_CREATED",
    "INVOICE_ISSUED",
    "INVOICE_UPDATED",
    "CREDIT_NOTE_CREATED",
    "CREDIT_NOTE_UPDATED",
    "CREDIT_NOTE_ISSUED",
    "CUSTOMER_CREATED",
    "CUSTOMER_UPDATED",
    "CUSTOMER_ARCHIVED",
];

/// The envelope Sequence posts: `{notificationType, sequenceAccountId, resourceType?, resourceId?, resource?}`.
/// Only what routing needs is read; `resource` (the state at sending time) is deliberately ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub notification_type: String,
    #[serde(default)]
    pub sequence_account_id: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
}

/// One document a targeted job re-fetches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub stream: Stream,
    pub id: String,
}

/// What a notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Fetch(Target),
    /// Acknowledged and ignored (a type we do not hold, or one without a document id).
    Ignore(&'static str),
}

/// Ids Sequence uses are UUIDs; anything longer or with characters outside `[A-Za-z0-9_-]` is not one.
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Notification {
    pub fn action(&self) -> Action {
        let stream = match self.notification_type.as_str() {
            "INVOICE_CREATED" | "INVOICE_ISSUED" | "INVOICE_UPDATED" => Stream::Invoices,
            "CREDIT_NOTE_CREATED" | "CREDIT_NOTE_UPDATED" | "CREDIT_NOTE_ISSUED" => Stream::CreditNotes,
            "CUSTOMER_CREATED" | "CUSTOMER_UPDATED" | "CUSTOMER_ARCHIVED" => Stream::Customers,
            _ => return Action::Ignore("notification type not held in the ledger"),
        };
        match self.resource_id.as_deref() {
            Some(id) if plausible_id(id) => Action::Fetch(Target { stream, id: id.to_owned() }),
            _ => Action::Ignore("no usable resource id"),
        }
    }
}

/// The digest a delivery is remembered by against replays: the signed timestamp and body.
pub fn replay_digest(t_ms: i64, body: &[u8]) -> String {
    let mut signed = format!("{t_ms}.").into_bytes();
    signed.extend_from_slice(body);
    crate::crypto::sha256_hex(&signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(t: &str, id: Option<&str>) -> Notification {
        Notification {
            notification_type: t.into(),
            sequence_account_id: None,
            resource_type: None,
            resource_id: id.map(Into::into),
        }
    }

    #[test]
    fn documents_become_targets_everything_else_is_ignored() {
        assert_eq!(
            n("INVOICE_UPDATED", Some("a1-b2")).action(),
            Action::Fetch(Target { stream: Stream::Invoices, id: "a1-b2".into() })
        );
        assert!(matches!(
            n("CREDIT_NOTE_ISSUED", Some("x")).action(),
            Action::Fetch(Target { stream: Stream::CreditNotes, .. })
        ));
        assert!(matches!(
            n("CUSTOMER_ARCHIVED", Some("x")).action(),
            Action::Fetch(Target { stream: Stream::Customers, .. })
        ));
        assert!(matches!(n("QUOTE_ACCEPTED", Some("x")).action(), Action::Ignore(_)));
        assert!(matches!(n("INVOICE_UPDATED", None).action(), Action::Ignore(_)));
        assert!(matches!(n("INVOICE_UPDATED", Some("../x")).action(), Action::Ignore(_)));
        let parsed: Notification = serde_json::from_str(
            r#"{"notificationType":"INVOICE_ISSUED","sequenceAccountId":"acc","resourceType":"INVOICE","resourceId":"i1","resource":{"id":"i1"}}"#,
        )
        .unwrap();
        assert_eq!(parsed.resource_id.as_deref(), Some("i1"));
    }

    #[test]
    fn a_replay_digest_binds_timestamp_and_body() {
        assert_ne!(replay_digest(1, b"x"), replay_digest(2, b"x"));
        assert_ne!(replay_digest(1, b"x"), replay_digest(1, b"y"));
        assert_eq!(replay_digest(1, b"x"), replay_digest(1, b"x"));
    }
}
