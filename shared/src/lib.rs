//! The core of the Sequence ⇄ Sphere connector, shared by the three Lambda functions and
//! `sphere-local`.
//!
//! Pure modules (no I/O): [`domain`], [`crypto`], [`keys`], [`tax`], [`sync`] (the algorithm).
//! Ports and adapters: [`store`] (ports + embedded adapter; DynamoDB/Secrets Manager behind the `aws`
//! feature) and [`sequence`] (the Sequence REST client and the sandbox simulator).

#[cfg(feature = "aws")]
pub mod aws;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod ledger;
pub mod sequence;
pub mod store;
pub mod sync;
pub mod tax;
