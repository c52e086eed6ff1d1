//! The transaction ledger: what Sphere's reports and filings read, written only by the sync.
//!
//! Why it is shaped this way: every import is at least once, so every write here is an idempotent,
//! fenced upsert keyed by (org, connection, document) — a content hash makes a repeat a no-op with
//! zero writes, a change becomes a new *version* (a void is a cancellation version, never a delete),
//! and a stale lease holder's write is refused by the store. Pure pieces ([`model`], [`crate::layout`],
//! [`region`], the aggregation in [`report`]) are separate from the I/O in [`repo`] (and the console's
//! page of the quarantine in [`quarantine`]; the org's synced products and customers in [`catalog`]).

pub mod catalog;
pub mod counters;
pub mod model;
pub mod quarantine;
pub mod region;
pub mod repo;
pub mod report;

pub use model::{
    AddressSource, Change, CustomerRecord, CustomerSnapshot, CustomerTaxStatus, DocKind, JurisdictionTax, LedgerLine,
    PostalAddress, ProductRecord, QuarantineRecord, TxnContent, TxnHead, TxnStatus, TxnType, VersionEntry,
};
pub use quarantine::{QuarantineEntry, QuarantinePage};
pub use repo::{Ledger, LedgerError, Upsert};
pub use report::{RegionSummary, TxnFilter, TxnPage};
