//! The engine's input and output types. Plain data: the HTTP layer maps Sphere's wire shape onto these, and the
//! org's settings (`OrgTaxSettings`, `Registration`) are stored as JSON by the connect function, hence serde.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::Currency;

/// A postal address as the caller sent it. Only `country` is required; everything is normalised (trimmed,
/// case-folded) by the engine, so callers pass what they have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    /// US state / Canadian province (code such as "MN" or a full name such as "Minnesota").
    pub state: Option<String>,
    /// ZIP5, ZIP+4 ("55401-1234" or "554011234") or any foreign postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 ("US", "de"); "UK" and "EL" are accepted as GB and GR.
    pub country: String,
}

/// How tax amounts are rounded to the currency's minor unit. See [`super::rounding`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Per line, per jurisdiction, half-up (away from zero) to the minor unit.
    #[default]
    Line,
    /// Per jurisdiction over the whole document, then allocated back to lines by largest remainder.
    Document,
}

/// Where the org collects tax. No active registration for a line's region → no tax, reason `not_collecting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// ISO country code, or "EU" for an EU One-Stop-Shop registration (covers every EU member state).
    pub country: String,
    /// US state or Canadian province code. US registrations need one; a Canadian registration without a region
    /// is the federal GST/HST registration; provincial PST/QST/RST need the province's own registration.
    #[serde(default)]
    pub region: Option<String>,
    pub effective_from: NaiveDate,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// The org's "tax calculations" toggle for this region.
    #[serde(default = "yes")]
    pub collect: bool,
}

fn yes() -> bool {
    true
}

/// Per-org tax settings (stored by the connect function).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgTaxSettings {
    #[serde(default)]
    pub rounding: Rounding,
    #[serde(default)]
    pub registrations: Vec<Registration>,
    /// The seller's address; its country decides whether a B2B sale is cross-border (reverse charge).
    #[serde(default)]
    pub origin_address: Option<Address>,
}

/// One invoice line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    /// Echoed in the output.
    pub id: String,
    /// Line total in minor units; negative = an adjustment line (taxed negatively, never discounted).
    pub amount: i64,
    /// Discount in minor units, `0 ≤ discount ≤ amount`; reduces the taxable amount.
    pub discount: i64,
    /// `amount` includes tax: the engine backs it out so that net + tax == amount − discount exactly.
    pub tax_inclusive: bool,
    /// One of [`super::catalog()`]'s ids.
    pub tax_code: String,
    /// Overrides the customer address for this line.
    pub ship_to: Option<Address>,
}

/// A tax calculation request.
#[derive(Debug, Clone)]
pub struct CalcInput<'a> {
    pub currency: Currency,
    /// The date whose rates apply (a past date uses that date's rates).
    pub tax_date: NaiveDate,
    pub customer_address: Address,
    pub ship_from: Option<Address>,
    pub lines: Vec<LineInput>,
    /// Where the customer is exempt (see [`Exemption`]).
    pub exemption: Exemption,
    pub buyer_tax_id: Option<String>,
    pub settings: &'a OrgTaxSettings,
}

/// Where a customer is exempt from tax. Built with [`Exemption::scoped`]; see `exemption.rs` for the rules and
/// the migration rule (no jurisdiction named = everywhere, the meaning of every exemption stored before scopes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Exemption {
    /// Not exempt.
    #[default]
    None,
    /// Exempt in every jurisdiction.
    Everywhere,
    /// Exempt only in these jurisdictions.
    In(Vec<ExemptScope>),
}

/// A jurisdiction an exemption names: a country, or one US state / Canadian province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptScope {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// US state or Canadian province code; `None` = the whole country.
    pub region: Option<String>,
}

/// How precisely the address was resolved to jurisdictions (least precise over all lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Country only (VAT/GST countries with one national rate).
    Country,
    /// State / province: only the regional rate is known.
    Region,
    /// Matched a city in our local tables by name.
    City,
    /// Matched by ZIP5 (local table, or ZIP5 → county).
    Zip5,
    /// Matched a ZIP+4 range of an SST boundary file.
    Zip4,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Country => "country",
            Resolution::Region => "region",
            Resolution::City => "city",
            Resolution::Zip5 => "zip5",
            Resolution::Zip4 => "zip4",
        }
    }
}

/// The rate a tax amount was computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxRateInfo {
    /// Percent (6.875 means 6.875 %), normalised, at most 4 decimal places.
    pub percentage: Decimal,
    pub inclusive: bool,
    pub display_name: String,
    pub jurisdiction: String,
    pub country: String,
    pub state: Option<String>,
    /// `sales_tax`, `vat`, `gst`, `hst`, `pst`, `qst`, `rst`, `jct`.
    pub tax_type: &'static str,
    /// `standard_rated`, `taxable_basis_reduced`.
    pub taxability_reason: Option<&'static str>,
}

/// One jurisdiction's tax on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxAmount {
    /// Minor units.
    pub amount: i64,
    /// The amount the rate applied to, minor units (net of discount and, for inclusive lines, of tax).
    pub taxable_amount: i64,
    pub rate: TaxRateInfo,
}

/// The result for one input line (same order as the input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineOutput {
    pub id: String,
    /// Empty when no tax is due; `reason` then says why.
    pub tax_amounts: Vec<TaxAmount>,
    /// Sum of `tax_amounts[].amount`.
    pub tax: i64,
    /// `customer_exempt`, `reverse_charge`, `not_collecting`, `product_exempt`, `no_tax_in_jurisdiction`.
    pub reason: Option<&'static str>,
}

/// A tax calculation result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalcOutput {
    pub lines: Vec<LineOutput>,
    pub address_resolution: Resolution,
    /// Human-readable notes on precision and data gaps (deduplicated, stable order).
    pub warnings: Vec<String>,
    /// The same gaps for a program: kinds of jurisdiction that may tax the address but are not in our data
    /// ([`MISSING_LOCAL`], [`MISSING_CITY`], [`MISSING_DISTRICT`]); empty when the data is complete for it.
    pub missing_jurisdiction_types: Vec<&'static str>,
}

/// A product tax code of our catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TaxCode {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

/// `missing_jurisdiction_types`: none of the address's own local (county / city / district) rates are in our
/// data: only the state rate and any tax levied statewide (Utah's local and county options). Also on a date
/// before a state's table lists every jurisdiction when the rows known then leave out its county's tax.
pub const MISSING_LOCAL: &str = "local";
/// `missing_jurisdiction_types`: a city tax may apply but was not resolved (no boundary data, city not matched).
pub const MISSING_CITY: &str = "city";
/// `missing_jurisdiction_types`: special-district taxes (transit, housing, …) may apply but are not all known.
pub const MISSING_DISTRICT: &str = "special_district";
