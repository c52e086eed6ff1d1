//! Secrets Manager adapter for [`SecretStore`].
//!
//! IAM actions this adapter calls (kept in step with template.yaml by a test):
//! `secretsmanager:CreateSecret`, `secretsmanager:PutSecretValue`, `secretsmanager:GetSecretValue`,
//! `secretsmanager:DeleteSecret`, `secretsmanager:RestoreSecret`, `secretsmanager:TagResource`.

use super::secrets::{SecretError, SecretStore, SecretValue};
use crate::domain::OrgId;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::Tag;

pub const IAM_ACTIONS: &[&str] = &[
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:GetSecretValue",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
    "secretsmanager:TagResource",
];

/// Days a disconnected connection's secret stays recoverable.
const RECOVERY_WINDOW_DAYS: i64 = 7;

#[derive(Clone, Debug)]
pub struct SecretsManagerStore {
    client: Client,
    /// The customer-managed key new secrets are encrypted with (`None`: `aws/secretsmanager`). Only `sync`'s role
    /// may decrypt with it (template.yaml's key policy).
    kms_key_id: Option<String>,
}

fn unavailable(e: impl std::error::Error) -> SecretError {
    SecretError::Unavailable(super::item::error_chain(&e))
}

impl SecretsManagerStore {
    pub fn new(client: Client) -> Self {
        SecretsManagerStore { client, kms_key_id: None }
    }

    /// The same store creating secrets under the customer-managed KMS key `key_id`.
    pub fn with_kms_key(mut self, key_id: Option<String>) -> Self {
        self.kms_key_id = key_id;
        self
    }

    /// Replaces the value of an existing secret, first cancelling a scheduled deletion (a reconnect
    /// inside the recovery window); restoring a secret that is not being deleted is a no-op.
    async fn put_value(&self, name: &str, value: &SecretValue) -> Result<(), SecretError> {
        if let Err(e) = self.client.restore_secret().secret_id(name).send().await {
            match e.into_service_error() {
                e if e.is_invalid_request_exception() => {}
                e => return Err(unavailable(e)),
            }
        }
        self.client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.expose())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(e.into_service_error()))
    }
}

impl SecretStore for SecretsManagerStore {
    async fn put_secret(&self, name: &str, value: &SecretValue, org: &OrgId) -> Result<(), SecretError> {
        let created = self
            .client
            .create_secret()
            .name(name)
            .secret_string(value.expose())
            .set_kms_key_id(self.kms_key_id.clone())
            .tags(Tag::builder().key("sphere:org").value(org.as_str()).build())
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                e if e.is_resource_exists_exception() => self.put_value(name, value).await,
                // Scheduled for deletion (a reconnect inside the recovery window): restore, then update.
                e if e.is_invalid_request_exception() => {
                    self.client
                        .restore_secret()
                        .secret_id(name)
                        .send()
                        .await
                        .map_err(|e| unavailable(e.into_service_error()))?;
                    self.put_value(name, value).await
                }
                e => Err(unavailable(e)),
            },
        }
    }

    async fn get_secret(&self, name: &str) -> Result<Option<SecretValue>, SecretError> {
        match self.client.get_secret_value().secret_id(name).send().await {
            Ok(out) => match out.secret_string() {
                Some(s) => Ok(Some(SecretValue::new(s))),
                None => Err(SecretError::Corrupt("secret has no string value".into())),
            },
            Err(e) => match e.into_service_error() {
                e if e.is_resource_not_found_exception() => Ok(None),
                // Marked for deletion.
                e if e.is_invalid_request_exception() => Ok(None),
                e => Err(unavailable(e)),
            },
        }
    }

    async fn delete_secret(&self, name: &str) -> Result<(), SecretError> {
        match self.client.delete_secret().secret_id(name).recovery_window_in_days(RECOVERY_WINDOW_DAYS).send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.into_service_error() {
                e if e.is_resource_not_found_exception() || e.is_invalid_request_exception() => Ok(()),
                e => Err(unavailable(e)),
            },
        }
    }
}
