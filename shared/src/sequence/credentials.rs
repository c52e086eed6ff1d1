//! Sequence API credentials (Client ID + Client Secret). Kept in their own type so the secret can only
//! leave it as the `Authorization` header value: `Debug` redacts it, there is no `Display`, and it is
//! not `Serialize` (storage adapters seal it explicitly with `secret()`).

use base64::Engine as _;
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    client_id: String,
    client_secret: String,
}

impl Credentials {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Credentials {
            client_id: client_id.into().trim().to_owned(),
            client_secret: client_secret.into().trim().to_owned(),
        }
    }

    /// The public half; safe to log.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The secret. Only for sealing it into a secret store; never log or format it.
    pub fn secret(&self) -> &str {
        &self.client_secret
    }

    /// `Basic base64(client_id:client_secret)`.
    pub fn authorization_header(&self) -> String {
        let raw = format!("{}:{}", self.client_id, self.client_secret);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("client_id", &self.client_id).field("client_secret", &"[REDACTED]").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_matches_the_documented_example() {
        // Sequence's docs: id `key`, secret `secret` → `Basic a2V5OnNlY3JldA==`.
        assert_eq!(Credentials::new("key", "secret").authorization_header(), "Basic a2V5OnNlY3JldA==");
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = Credentials::new("id_123", "s3cr3t-value");
        let d = format!("{c:?}");
        assert!(d.contains("id_123"));
        assert!(!d.contains("s3cr3t-value"));
        assert!(d.contains("REDACTED"));
    }
}
