//! The port for Sequence credentials. In AWS they live in Secrets Manager (one secret per connection,
//! `{prefix}/sequence/{org}/{connection}`, tagged with the org); locally they are sealed with
//! AES-256-GCM under a key file beside the embedded store, so a dump of the store holds nothing usable.

use crate::domain::OrgId;
use std::fmt;
use std::future::Future;

/// A secret string. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(s: impl Into<String>) -> Self {
        SecretValue(s.into())
    }
    /// The only way to read the value; grep for it when auditing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
    #[error("secret is unreadable: {0}")]
    Corrupt(String),
}

pub trait SecretStore: Send + Sync + 'static {
    /// Creates the secret or replaces its value.
    fn put_secret(
        &self,
        name: &str,
        value: &SecretValue,
        org: &OrgId,
    ) -> impl Future<Output = Result<(), SecretError>> + Send;
    fn get_secret(&self, name: &str) -> impl Future<Output = Result<Option<SecretValue>, SecretError>> + Send;
    /// Schedules deletion (Secrets Manager keeps a recovery window); reads return `None` afterwards.
    fn delete_secret(&self, name: &str) -> impl Future<Output = Result<(), SecretError>> + Send;
}

/// Name of the secret holding one connection's Sequence credentials.
pub fn sequence_secret_name(prefix: &str, org: &OrgId, connection: &crate::domain::ConnectionId) -> String {
    format!("{prefix}/sequence/{org}/{connection}")
}
