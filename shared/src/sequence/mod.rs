//! The Sequence REST API: typed models and the client.
//!
//! Split so each piece has one reason to change: [`models`] follows Sequence's 2024-07-30 schema,
//! [`query`] its documented list filters, [`client`] our retry/limit/deadline policy, [`limiter`] the
//! per-key request budget, [`error`] what callers must tell apart, [`credentials`] the one place the
//! secret lives, [`decode`] one document at a time with reasons free of customer data. The
//! simulator tests run against is its own crate, `sequence-sim` (it serves the published document,
//! not these models).

pub mod client;
pub mod credentials;
pub mod decode;
pub mod error;
pub mod limiter;
pub mod models;
pub mod query;

pub use client::{API_VERSION, ClientOptions, Page, Pager, RequestStats, SequenceClient};
pub use credentials::Credentials;
pub use decode::Rejected;
pub use error::SequenceError;
pub use limiter::RateLimiter;
pub use models::*;
pub use query::{CreditNoteQuery, CustomerQuery, InvoiceQuery, ListQuery, MAX_LIMIT, PageQuery, ProductQuery};
