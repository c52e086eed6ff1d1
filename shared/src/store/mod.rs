//! Storage: the ports (DESIGN §3) and their adapters.
//!
//! [`item`] is the one storage mechanism: conditional, atomic writes of versioned items in a single
//! table. [`embedded`] (redb) and, behind the `aws` feature, `dynamo` implement it; the typed
//! repositories in [`repo`] are written once on top of it, so both backends share every rule.
//! [`secrets`] is the port for Sequence credentials (Secrets Manager in AWS, sealed locally).

mod deferred_log;
pub mod embedded;
pub mod item;
pub mod lease;
pub mod record;
pub mod secrets;

pub use embedded::EmbeddedStore;
pub use item::{Expect, Index, IndexKey, Item, ItemStore, Key, Page, Query, SkRange, StoreError, WriteOp};
pub use secrets::{SecretError, SecretStore, SecretValue};

#[cfg(feature = "aws")]
pub mod dynamo;
#[cfg(feature = "aws")]
pub use dynamo::DynamoStore;
#[cfg(feature = "aws")]
pub mod secrets_manager;
#[cfg(feature = "aws")]
pub use secrets_manager::SecretsManagerStore;
