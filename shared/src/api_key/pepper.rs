//! Where the API key pepper comes from in a deployment: one Secrets Manager secret (template.yaml's
//! `ApiKeyPepperSecret`, 64 generated characters), read once at cold start by `connect` and `tax`.
//! `sphere-local` derives its pepper from the embedded store's master key instead
//! (`EmbeddedStore::key_pepper`).

use super::format::{KeyPepper, PepperTooShort};
use crate::store::{SecretError, SecretStore};

#[derive(Debug, thiserror::Error)]
pub enum PepperError {
    #[error("the API key pepper secret does not exist")]
    Missing,
    #[error("the API key pepper secret cannot be read: {0}")]
    Unreadable(#[from] SecretError),
    #[error(transparent)]
    TooShort(#[from] PepperTooShort),
}

/// The pepper kept in the secret `id`.
pub async fn load_pepper<S: SecretStore>(secrets: &S, id: &str) -> Result<KeyPepper, PepperError> {
    let value = secrets.get_secret(id).await?.ok_or(PepperError::Missing)?;
    Ok(KeyPepper::new(value.expose().as_bytes())?)
}
