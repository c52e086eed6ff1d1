//! `sequence-sim`: an in-memory Sequence API for tests and `sphere-local sim`. Why: the real sandbox
//! needs accounts and network, cannot inject faults, and is not deterministic. It serves the published
//! 2024-07-30 document field for field (every required field, documented JSON types, object maps as
//! objects, arrays never null — see [`wire`], checked against [`document`] by `tests/document.rs`),
//! with Basic auth, `Sequence-Version`, filters, cursor pagination, Sequence's error shape and a
//! per-key 429, for a sandbox at `/sandbox/api` and a production at `/production/api`, each accepting
//! only its own accounts' keys; and a control API under `/_sim/` to seed, mutate, break it and play
//! Sequence's side of the Sphere integration (Part 2).
//!
//! Its own crate, never a dependency of a Lambda function crate: only `sphere-local` and tests link it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use sequence_sim::{SeedSpec, SimOptions, Simulator};
//! let sim = Simulator::start(SimOptions { data: Some(SeedSpec::default()), ..SimOptions::default() }).await?;
//! let creds = sim.credentials(shared::domain::Environment::Sandbox);
//! let url = sim.sandbox_url();
//! # let _ = (creds, url); Ok(()) }
//! ```

mod accounts;
mod api;
mod control;
pub mod credit_notes;
pub mod customers;
pub mod document;
mod error;
pub mod fake;
pub mod faults;
pub mod invoices;
pub mod lines;
mod list;
pub mod money;
pub mod prng;
pub mod products;
pub mod raw;
pub mod render;
pub mod seed;
mod server;
pub mod sphere;
mod state;
pub mod table;
pub mod tax;
mod util;
pub mod webhooks;
pub mod wire;
pub mod world;

pub use credit_notes::NewCreditNote;
pub use customers::{CustomerPatch, NewContact, NewCustomer};
pub use error::SimError;
pub use faults::{Faults, SimStats};
pub use invoices::{BulkInvoices, InvoicePatch, NewInvoice, Payment};
pub use lines::{NewCreditLine, NewLine};
pub use products::{NewProduct, ProductPatch};
pub use raw::{RawPatch, RawPatchRequest, RawPatched, Resource};
pub use seed::{HardCases, SeedSpec};
pub use server::{SimHandle, SimOptions, Simulator};
pub use sphere::{SphereTestResult, TaxOutcome, TaxRequest, build_tax_request};
pub use state::{CreditNoteView, InvoiceView, SimState};
pub use world::{SimCredentials, Target, World};

/// The API version the simulator serves (and the only one it accepts in `Sequence-Version`).
pub const API_VERSION: &str = "2024-07-30";
