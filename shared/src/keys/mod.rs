//! Sphere API keys: the format ([`format`]) and their records ([`repo`]). The tax endpoint verifies
//! them through the per-container cache in [`crate::cache`].

pub mod format;
pub mod repo;

pub use format::{ParsedKey, generate, parse};
pub use repo::{ApiKeyRecord, create, list, lookup, revoke};
