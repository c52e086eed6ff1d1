//! The tax engine: address → jurisdictions → dated rates → taxability → exemptions → registrations →
//! rounding. Pure, no I/O.
//!
//! Why it is shaped this way:
//! - **Data, not code.** Every rate, local table, taxability rule and VAT-id format is a cited CSV row in `data/`
//!   (see `data/README.md` for coverage and provenance). `shared/build.rs` embeds the files; [`Engine::load`]
//!   parses and validates them once (a few ms; a state's county / city table when the state is first priced),
//!   so the hot path never touches the network or the disk, and a US state is added by dropping its Streamlined
//!   Sales Tax files into `data/us-sst/`.
//! - **Dated.** Every row has `effective_from`/`effective_to`; a calculation uses the rates of its `tax_date`.
//! - **Zero has a reason.** Empty `tax_amounts` always come with `reason` (`customer_exempt`, `reverse_charge`,
//!   `not_collecting`, `product_exempt`, `no_tax_in_jurisdiction`); missing precision comes with `warnings` and an
//!   honest [`Resolution`].
//! - **One rounding rule**, documented and tested in [`rounding`].
//!
//! The HTTP endpoint calls [`Engine::global`] then [`Engine::calculate`]:
//!
//! ```ignore
//! let engine = shared::tax::Engine::global()?;              // Result<&'static Engine, DataError>
//! let out = engine.calculate(&CalcInput { currency, tax_date, customer_address, ship_from, lines,
//!                                          exemption, buyer_tax_id, settings: &org_settings })?;
//! // TaxError::LocationInvalid → customer_tax_location_invalid, UnknownTaxCode → invalid_product_tax_code,
//! // Invalid → validation_errors, NoRateData → tax_rates_unavailable (names the region; a data gap, not an
//! // outage), Data → internal_server_error (never a silent zero).
//! ```
//!
//! [`catalog()`] lists the product tax codes the endpoint accepts.

mod address;
mod b2b;
mod business_id;
mod catalog;
mod county_city;
pub mod coverage;
mod csv;
mod data;
mod error;
mod exemption;
mod pipeline;
mod resolve;
pub mod rounding;
mod types;
mod vat_id;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_intl;

use std::sync::OnceLock;

pub use catalog::catalog;
/// EU member states (ISO codes; Greece as GR): the one list the tax engine and the exposure rules share.
pub(crate) use resolve::EU27;

/// One embedded data file by its path under `data/` (other content than tax rates reads its file here).
pub(crate) fn embedded_file(path: &str) -> Option<(&'static str, &'static str)> {
    data::embedded_files().iter().copied().find(|(p, _)| *p == path)
}

/// Our CSV reader (RFC 4180, records with their line numbers), for the other data files.
pub(crate) use csv::parse as csv_parse;
pub(crate) use data::ymd as parse_ymd;
pub use error::{DataError, TaxError};
pub use pipeline::{MAX_AMOUNT, MAX_LINES, check_lines};
pub use types::{
    Address, CalcInput, CalcOutput, ExemptScope, Exemption, LineInput, LineOutput, MISSING_CITY, MISSING_DISTRICT,
    MISSING_LOCAL, OrgTaxSettings, Registration, Resolution, Rounding, TaxAmount, TaxCode, TaxRateInfo,
};

/// The loaded tax content. Load once per process with [`Engine::global`].
#[derive(Debug)]
pub struct Engine {
    tables: data::Tables,
}

static GLOBAL: OnceLock<Result<Engine, DataError>> = OnceLock::new();

impl Engine {
    /// Parses and validates the embedded content. The county / city tables of `data/us-county-city/` are read
    /// per state when first used (see [`Engine::load_all`]).
    pub fn load() -> Result<Engine, DataError> {
        Ok(Engine { tables: data::Tables::load(data::embedded_files())? })
    }

    /// [`Engine::load`] and every state's county / city table: all the content, read and checked now.
    pub fn load_all() -> Result<Engine, DataError> {
        let engine = Engine::load()?;
        county_city::check_all(&engine.tables)?;
        Ok(engine)
    }

    /// The process-wide engine, loaded on first use.
    pub fn global() -> Result<&'static Engine, DataError> {
        GLOBAL.get_or_init(Engine::load).as_ref().map_err(Clone::clone)
    }

    /// Calculates tax for one request. Pure: same input, same output.
    pub fn calculate(&self, input: &CalcInput<'_>) -> Result<CalcOutput, TaxError> {
        pipeline::calculate(&self.tables, input)
    }

    /// What the loaded content covers, per US state (see [`coverage`]).
    pub fn us_coverage(&self) -> Result<Vec<coverage::StateCoverage>, DataError> {
        coverage::us(&self.tables)
    }

    /// The provenance of the US local data of a Streamlined Sales Tax state (its file names), if we hold any.
    pub fn sst_files(&self, state: &str) -> Option<&[String]> {
        self.tables.sst.get(state).map(|s| s.files.as_slice())
    }
}
