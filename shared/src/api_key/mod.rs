//! Sphere API keys: the format and its keyed check ([`format`]), where a deployment keeps the check's
//! secret ([`pepper`]) and the key records ([`repo`]). The tax endpoint verifies keys through the
//! per-container cache in [`crate::cache`].

pub mod format;
pub mod pepper;
pub mod repo;

pub use format::{KeyPepper, ParsedKey, generate, parse};
pub use pepper::{PepperError, load_pepper};
pub use repo::{ApiKeyRecord, create, list, lookup, revoke};
