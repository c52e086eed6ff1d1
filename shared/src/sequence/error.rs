//! The errors the Sequence client returns, shaped around what callers must decide: show "invalid
//! credentials" (401), "Sequence unavailable, retry later" (429/5xx/timeouts, after retries), stop and
//! checkpoint (out of time), or report a request we got wrong (other 4xx). No variant ever carries a
//! secret: messages come from Sequence's error body or from our own fixed text.

use serde::Deserialize;
use std::time::Duration;

/// Everything that can go wrong talking to Sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    /// `401`: the Client ID / Secret are wrong, revoked or rotated.
    #[error("Sequence rejected the credentials (401){}", fmt_msg(.message))]
    Unauthorized { message: Option<String> },
    /// `429` on every attempt, retries exhausted: Sequence is rate limiting this key.
    #[error("Sequence is rate limiting this key (429 after {attempts} attempts); retry later")]
    Throttled { attempts: u32, retry_after: Option<Duration> },
    /// `5xx`, timeout or network failure on every attempt, retries exhausted.
    #[error("Sequence unavailable ({reason}, after {attempts} attempts); retry later")]
    Unavailable { status: Option<u16>, reason: String, attempts: u32 },
    /// Waiting (rate limiter or backoff) would pass the caller's deadline; nothing was retried past it.
    #[error("out of time: waiting {needed:?} would pass the deadline")]
    OutOfTime { needed: Duration },
    /// Any other `4xx` (400, 403, 404, 409, …): not retried.
    #[error("Sequence returned {status}{}{}", fmt_type(.error_type), fmt_msg(.message))]
    Client { status: u16, error_type: Option<String>, message: Option<String> },
    /// The server handed back a page token we had already followed; stopping instead of looping.
    #[error("Sequence returned a page token already followed while listing {path}")]
    RepeatedPageToken { path: String },
    /// The body did not match the 2024-07-30 schema.
    #[error("could not decode Sequence response from {path}: {message}")]
    Decode { path: String, message: String },
    /// The client could not be built (bad base URL, TLS set-up).
    #[error("Sequence client configuration: {0}")]
    Config(String),
}

fn fmt_msg(m: &Option<String>) -> String {
    m.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
}

fn fmt_type(t: &Option<String>) -> String {
    t.as_deref().map(|t| format!(" {t}")).unwrap_or_default()
}

impl SequenceError {
    /// True for the "Sequence unavailable, retry later" family (429/5xx/timeout/network).
    pub fn is_retry_later(&self) -> bool {
        matches!(self, SequenceError::Throttled { .. } | SequenceError::Unavailable { .. })
    }

    /// The HTTP status, when the error came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            SequenceError::Unauthorized { .. } => Some(401),
            SequenceError::Throttled { .. } => Some(429),
            SequenceError::Unavailable { status, .. } => *status,
            SequenceError::Client { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Sequence's documented error body `{"error":{"type","message"}}`, parsed leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    pub message: Option<String>,
}

/// Parses an error body; an empty, non-JSON or differently-shaped body yields empty fields. Messages
/// are truncated so a huge body cannot flood logs.
pub fn parse_error_body(body: &[u8]) -> ApiErrorBody {
    #[derive(Deserialize)]
    struct Envelope {
        error: Option<ApiErrorBody>,
    }
    let parsed = serde_json::from_slice::<Envelope>(body).ok().and_then(|e| e.error).unwrap_or_default();
    ApiErrorBody {
        error_type: parsed.error_type.map(|s| truncate(&s, 100)),
        message: parsed.message.map(|s| truncate(&s, 500)),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_owned() } else { s.chars().take(max).collect::<String>() + "…" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_parsed_leniently() {
        let b = parse_error_body(
            br#"{"error":{"type":"UnrecognisedApiVersion","message":"No matching API version found.","extra":1}}"#,
        );
        assert_eq!(b.error_type.as_deref(), Some("UnrecognisedApiVersion"));
        assert_eq!(b.message.as_deref(), Some("No matching API version found."));
        assert_eq!(parse_error_body(b""), ApiErrorBody::default());
        assert_eq!(parse_error_body(b"<html>oops</html>"), ApiErrorBody::default());
        assert_eq!(parse_error_body(br#"{"errors":[]}"#), ApiErrorBody::default());
        assert_eq!(parse_error_body(br#"{"error":{"message":"m"}}"#).message.as_deref(), Some("m"));
    }

    #[test]
    fn display_and_classification() {
        let e = SequenceError::Client { status: 404, error_type: Some("NotFound".into()), message: Some("no".into()) };
        assert_eq!(e.to_string(), "Sequence returned 404 NotFound: no");
        assert!(!e.is_retry_later());
        assert!(SequenceError::Unavailable { status: Some(503), reason: "503".into(), attempts: 3 }.is_retry_later());
        assert_eq!(SequenceError::Unauthorized { message: None }.status(), Some(401));
    }
}
