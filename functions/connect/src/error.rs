//! Every way a console request can fail, mapped once to a status and a user-facing message.

use http::StatusCode;
use shared::store::{SecretError, StoreError};
use shared::web::{HttpResponse, console_error};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    BadRequest(String),
    /// Sequence refused the Client ID or Secret.
    #[error("Sequence rejected this Client ID or Secret. Check both values under Settings → API Keys in Sequence.")]
    InvalidCredentials,
    #[error("{0}")]
    Pairing(#[from] shared::domain::PairingError),
    /// Sequence is throttling, failing or unreachable; never reported as bad credentials.
    #[error("Sequence is not answering right now ({0}). Your credentials were not checked; please retry in a minute.")]
    SequenceUnavailable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("no route for this method and path")]
    NoRoute,
    #[error("storage unavailable: {0}")]
    Store(#[from] StoreError),
    #[error("secret storage unavailable: {0}")]
    Secret(#[from] SecretError),
    /// The embedded tax content did not load (a build defect, not the caller's).
    #[error("tax content unavailable: {0}")]
    TaxContent(#[from] shared::tax::DataError),
    /// A response could not be encoded (a defect, not the caller's).
    #[error("could not encode the response: {0}")]
    Encode(String),
}

impl ConnectError {
    pub fn into_response(self) -> HttpResponse {
        let (status, code) = match &self {
            ConnectError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            ConnectError::InvalidCredentials => (StatusCode::BAD_REQUEST, "invalid_credentials"),
            ConnectError::Pairing(_) => (StatusCode::BAD_REQUEST, "environment_mismatch"),
            ConnectError::SequenceUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "sequence_unavailable"),
            ConnectError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ConnectError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ConnectError::NoRoute => (StatusCode::NOT_FOUND, "not_found"),
            ConnectError::Store(StoreError::ConditionFailed { .. }) => (StatusCode::CONFLICT, "conflict"),
            ConnectError::TaxContent(_) | ConnectError::Encode(_) => {
                tracing::error!(error = %self, "console request failed");
                return console_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    if matches!(self, ConnectError::TaxContent(_)) {
                        "The tax content could not be loaded."
                    } else {
                        "The response could not be encoded."
                    },
                );
            }
            ConnectError::Store(_) | ConnectError::Secret(_) => {
                tracing::error!(error = %self, "console request failed");
                return console_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "The service is temporarily unavailable. Please retry shortly.",
                );
            }
        };
        let message = match &self {
            ConnectError::Store(StoreError::ConditionFailed { .. }) => {
                "This record was changed by another request; reload and try again.".to_owned()
            }
            other => other.to_string(),
        };
        console_error(status, code, message)
    }
}

/// Parses a JSON body strictly: it must be a JSON object (not an array serde would map onto a
/// struct), and unknown fields and wrong types are refused with serde's message, which names the field.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ConnectError> {
    if body.is_empty() {
        return Err(ConnectError::BadRequest("a JSON body is required".into()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ConnectError::BadRequest(format!("invalid JSON body: {e}")))?;
    if !value.is_object() {
        return Err(ConnectError::BadRequest("the body must be a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| ConnectError::BadRequest(format!("invalid JSON body: {e}")))
}
