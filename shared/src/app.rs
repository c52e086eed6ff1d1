//! What every handler runs against: configuration, the store, the clock. The Lambda mains build one
//! `App` at cold start over the AWS adapters; `sphere-local` builds one over the embedded store; the
//! tests build either. Handlers are plain async functions of `&App<S>` and an `http::Request`.

use crate::clock::SharedClock;
use crate::config::Config;
use crate::store::{ItemStore, SecretStore};

/// Everything a backend must provide: items and secrets.
pub trait Store: ItemStore + SecretStore + Clone {}
impl<T: ItemStore + SecretStore + Clone> Store for T {}

#[derive(Clone)]
pub struct App<S: Store> {
    pub config: Config,
    pub store: S,
    pub clock: SharedClock,
    /// This warm container's caches (API keys, tax context), bounded by `key_cache_ttl`.
    pub caches: std::sync::Arc<crate::cache::Caches>,
    /// Where "sync now" and the dispatcher send work.
    pub queue: std::sync::Arc<dyn crate::queue::SyncQueue>,
    /// The server-side secret of the API key check (issued by `connect`, verified by `tax`).
    pub key_pepper: crate::api_key::KeyPepper,
}

impl<S: Store> App<S> {
    pub fn new(config: Config, store: S, clock: SharedClock) -> Self {
        App {
            config,
            store,
            clock,
            caches: Default::default(),
            queue: std::sync::Arc::new(crate::queue::MemoryQueue::default()),
            // Fails closed: until the deployment's pepper is set, keys verify only within this process.
            key_pepper: crate::api_key::KeyPepper::random(),
        }
    }

    /// The same app checking API keys with the deployment's `pepper`.
    pub fn with_key_pepper(mut self, pepper: crate::api_key::KeyPepper) -> Self {
        self.key_pepper = pepper;
        self
    }

    /// The same app sending sync work to `queue`.
    pub fn with_queue(mut self, queue: std::sync::Arc<dyn crate::queue::SyncQueue>) -> Self {
        self.queue = queue;
        self
    }

    /// Now as RFC 3339 (UTC, milliseconds), for records and audit entries.
    pub fn now_rfc3339(&self) -> String {
        crate::clock::rfc3339_millis(self.clock.now_ms())
    }
}
