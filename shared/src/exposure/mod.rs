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

/// The thresholds and exchange rates, parsed once per process from the embedded data files.
pub fn content() -> Result<&'static (rules::Rules, fx::Rates), crate::tax::DataError> {
    static CONTENT: std::sync::OnceLock<Result<(rules::Rules, fx::Rates), crate::tax::DataError>> =
        std::sync::OnceLock::new();
    CONTENT.get_or_init(|| Ok((rules::Rules::embedded()?, fx::Rates::embedded()?))).as_ref().map_err(Clone::clone)
}
