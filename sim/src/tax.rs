//! The simulator's own flat tax rates, standing in for Sequence's "tax rates per region per category"
//! when no Sphere integration is saved (and for seeded history). Deliberately simple and static: one
//! combined rate per US state / Canadian province / country; exempt and reverse-charged customers pay 0.

use crate::wire::{Customer, TaxStatus};
use rust_decimal::Decimal;

/// Percent, e.g. 20 for UK VAT.
pub fn local_rate_pct(c: &Customer) -> Decimal {
    if c.tax_status != TaxStatus::Taxed {
        return Decimal::ZERO;
    }
    let (units, scale) = match (c.address.country.as_str(), c.address.state.as_deref()) {
        ("US", Some(s)) => match s {
            "CA" => (725, 2),
            "TX" | "IL" | "MA" => (625, 2),
            "NY" | "GA" => (4, 0),
            "WA" => (65, 1),
            "FL" | "PA" => (6, 0),
            "CO" => (29, 1),
            "NJ" => (6625, 3),
            "NC" => (475, 2),
            "OH" => (575, 2),
            "AZ" => (56, 1),
            "MN" => (6875, 3),
            "UT" => (61, 1),
            _ => (0, 0),
        },
        ("CA", Some(p)) => match p {
            "ON" => (13, 0),
            "QC" => (14975, 3),
            "BC" => (12, 0),
            _ => (5, 0),
        },
        ("GB" | "FR" | "AT", _) => (20, 0),
        ("DE", _) => (19, 0),
        ("NL" | "ES" | "BE", _) => (21, 0),
        ("IE" | "PL", _) => (23, 0),
        ("IT", _) => (22, 0),
        ("SE", _) => (25, 0),
        _ => (0, 0),
    };
    Decimal::new(units, scale)
}

/// The invoicing currency the simulator uses for a customer's country.
pub fn currency_for_country(country: &str) -> &'static str {
    match country {
        "US" => "USD",
        "CA" => "CAD",
        "GB" => "GBP",
        "SE" => "SEK",
        "PL" => "PLN",
        _ => "EUR",
    }
}
