//! Incremental sync of one Sequence account into the ledger.
//!
//! Why: Sequence offers no "changed since" query, Lambda invocations are time-boxed and may run
//! twice, and a tax ledger must hold every document exactly once at its latest version. So the sync
//! is at-least-once delivery into idempotent, fenced ledger upserts, with a cursor that is only ever
//! written after the records it covers and never inside a group of equal timestamps nor past the
//! run's start signpost.
//!
//! - [`source`]: the port to Sequence (page-at-a-time listings) and its small document types;
//!   [`adapter`] implements it over the real Sequence client; the in-memory implementation with
//!   fault injection the tests use is `sequence_sim::fake` (never linked into a Lambda).
//! - [`cursor`]: **the cursor / checkpoint rule** (pure).
//! - [`map`]: documents → ledger records, import / not-imported / quarantine decisions (pure).
//! - [`run()`]: one invocation — lease, cycle over streams and slices, checkpoints → [`Outcome`];
//!   its source calls (deadline, lease upkeep, throttling) in `calls`, per-document work in
//!   `documents`, inputs in [`RunRequest`] / [`SyncSettings`].
//! - [`outcome`]: the typed outcome and the run summary.
//! - [`schedule`]: when a connection syncs next — the interval, and the backoff of a failing one
//!   (pure; the dispatcher and the caller of a run both apply it).

pub mod adapter;
mod calls;
pub mod cursor;
mod documents;
mod job;
pub mod map;
pub mod outcome;
mod run;
pub mod schedule;
pub mod source;

pub use job::{RunRequest, SyncError, SyncSettings};
pub use outcome::{CallerAction, Outcome, RunReport, RunSummary};
pub use run::{run, run_targets};
