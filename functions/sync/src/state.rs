//! What the `sync` function can reach: configuration, the store (items and the connections' Sequence secrets),
//! the clock and the sync queue — and, through the secrets, Sequence. No API key pepper and no tax caches: the
//! sync cannot mint a Sphere API key or touch the tax path's state. The same line as its IAM policy
//! ([`crate::IAM_ACTIONS`]).

use shared::app::{App, Store};
use shared::clock::SharedClock;
use shared::config::Config;
use shared::queue::SyncQueue;
use std::sync::Arc;

pub struct State<S: Store> {
    pub config: Config,
    pub store: S,
    pub clock: SharedClock,
    /// Where runs that ran out of time or were throttled re-enqueue themselves, and the dispatcher sends work.
    pub queue: Arc<dyn SyncQueue>,
}

impl<S: Store> State<S> {
    /// The sync function's part of an [`App`] (its Lambda main, `sphere-local`'s worker, tests).
    pub fn of(app: &App<S>) -> Self {
        State {
            config: app.config.clone(),
            store: app.store.clone(),
            clock: app.clock.clone(),
            queue: app.queue.clone(),
        }
    }

    /// Now as RFC 3339 (UTC, milliseconds).
    pub fn now_rfc3339(&self) -> String {
        shared::clock::rfc3339_millis(self.clock.now_ms())
    }
}
