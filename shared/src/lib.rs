//! The core of the Sequence ⇄ Sphere connector, shared by the three Lambda functions and
//! `sphere-local`.
//!
//! Pure modules (no I/O): [`domain`], [`crypto`], [`keys`], [`tax`], [`sync`] (the algorithm).
//! Ports and adapters: [`store`] (ports + embedded adapter; DynamoDB/Secrets Manager behind the `aws`
//! feature) and [`sequence`] (the Sequence REST client; the simulator is the `sequence-sim` crate).

pub mod api_key;
pub mod app;
pub mod audit;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cache;
pub mod calculation_record;
pub mod clock;
pub mod config;
pub mod connection;
pub mod crypto;
pub mod domain;
pub mod exposure;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod layout;
pub mod ledger;
pub mod org;
pub mod queue;
pub mod sequence;
pub mod settings;
pub mod store;
pub mod sync;
pub mod tax;
pub mod web;
pub mod webhook;
