//! The one error type of the simulator. Why a status and a Sequence error `type` in it: every failure
//! (public API or control API) is rendered as Sequence renders errors, `{"error":{"type","message"}}`
//! with the HTTP status, so tests of the client's error handling see the real shape.

/// A simulator-side failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {error_type}: {message}")]
pub struct SimError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl SimError {
    pub fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        SimError { status, error_type, message: message.into() }
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(404, "NotFound", format!("{what} {id} not found"))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "Conflict", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalServerError", message)
    }
}
