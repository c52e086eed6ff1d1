//! What the `tax` function can reach, and nothing more: reads of the org's items and writes of calculation
//! records (one [`ItemStore`]), this container's caches, the API key pepper, the clock and the tax engine.
//!
//! Why a state of its own rather than the shared `App`: `tax` is the public endpoint. It holds no secret store
//! and no sync queue, so code here cannot reach Secrets Manager or SQS whatever it tries — the same line the IAM
//! policy in template.yaml draws ([`crate::IAM_ACTIONS`]). Its Lambda main builds it over DynamoDB alone.

use shared::api_key::KeyPepper;
use shared::app::{App, Store};
use shared::cache::Caches;
use shared::clock::SharedClock;
use shared::config::Config;
use shared::store::ItemStore;
use shared::tax::{DataError, Engine};
use std::sync::Arc;

pub struct State<I: ItemStore> {
    pub config: Config,
    pub store: I,
    pub clock: SharedClock,
    /// Verified API keys, tax settings, product codes and exemptions, bounded by `key_cache_ttl`.
    pub caches: Arc<Caches>,
    /// The server-side secret of the API key check, read once at cold start.
    pub key_pepper: KeyPepper,
    /// The tax content, loaded once per process.
    pub engine: &'static Engine,
}

impl<I: ItemStore> State<I> {
    /// Loads the tax content now (~14 ms, once per process), not on the first invoice.
    pub fn new(config: Config, store: I, clock: SharedClock, key_pepper: KeyPepper) -> Result<Self, DataError> {
        Ok(State { config, store, clock, caches: Arc::default(), key_pepper, engine: Engine::global()? })
    }

    /// The cache freshness bound in milliseconds.
    pub fn cache_ttl_ms(&self) -> i64 {
        i64::try_from(self.config.key_cache_ttl.as_millis()).unwrap_or(60_000)
    }
}

impl<S: Store> State<S> {
    /// The tax function's part of an [`App`] (`sphere-local` and tests), sharing its caches so a console change
    /// made through the app reaches the tax path at once, as it does in one process.
    pub fn of(app: &App<S>) -> Result<Self, DataError> {
        Ok(State {
            config: app.config.clone(),
            store: app.store.clone(),
            clock: app.clock.clone(),
            caches: app.caches.clone(),
            key_pepper: app.key_pepper.clone(),
            engine: Engine::global()?,
        })
    }
}
