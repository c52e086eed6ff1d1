//! Sphere API keys: the format ([`format`]), their records ([`repo`]) and the per-container cache
//! the tax endpoint verifies them through ([`cache`]).

pub mod cache;
pub mod format;
pub mod repo;

pub use cache::KeyCache;
pub use format::{ParsedKey, generate, parse};
pub use repo::{ApiKeyRecord, create, list, lookup, revoke};
