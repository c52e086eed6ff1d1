//! Economic-nexus exposure and filing reports from the ledger's running totals.
//!
//! Pure (no I/O): [`rules`] (the thresholds of `data/nexus/`), [`fx`] (the ECB reference rates of `data/fx/`),
//! [`counters`] (what each transaction adds to the per-month, per-region totals the sync keeps), [`engine`] (each
//! jurisdiction's status for a date) and [`filing`] (a jurisdiction's totals for a period, and its CSV). The I/O
//! is in [`crate::ledger::counters`] (keeping and reading the totals).

pub mod counters;
pub mod engine;
pub mod filing;
pub mod fx;
pub mod rules;

#[cfg(test)]
mod tests;
