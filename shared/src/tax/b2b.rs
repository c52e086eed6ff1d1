//! What a buyer's business tax id does to a sale: the cross-border B2B rules.
//!
//! Why this is a rule per country and not one flag: the tax moves to the buyer (or is simply not charged by the
//! supplier) only when the *supplier* is foreign, and each country says differently what "foreign" means. A
//! domestic B2B sale is always taxed normally.
//!
//! - **EU** (Directive 2006/112/EC Art. 44 and 196): B2B services are taxed where the customer is established, and
//!   the customer accounts for the VAT when the supplier is not established in that member state. Establishment
//!   decides, not registration: a foreign supplier registered in the member state still does not charge.
//! - **UK** (VATA 1994 s. 7A and s. 8), **NO** (merverdiavgiftsloven § 3-30): the business recipient of services
//!   from a supplier belonging abroad accounts for the VAT; establishment decides. **IS** keeps the engine's
//!   earlier rule (the same as NO), not re-verified against Icelandic law in this change.
//! - **CH / LI** (MWSTG, SR 641.20, Art. 45 para. 1 let. a; ESTV "Bezugsteuer"): the acquisition tax only
//!   covers services of companies established abroad *that are not entered in the Swiss register of taxable
//!   persons*. A supplier registered for Swiss VAT charges 8.1 % to Swiss businesses like any Swiss company, so
//!   here registration decides. Liechtenstein is inside the Swiss VAT territory ("Inland" includes the customs
//!   enclaves, MWSTG Art. 3 let. a; CH–LI VAT treaty), so CH ↔ LI is domestic.
//! - **AU** (ATO, "GST on imported services and digital products"; GST Act 1999 s. 9-25(5)(c) and (7)): an offshore
//!   supply of digital services is connected with Australia only when made to an "Australian consumer", which
//!   excludes a GST-registered recipient acquiring for its enterprise; the customer shows it with its ABN.
//! - **NZ** (IRD, "GST on remote services"): a non-resident supplier of remote services does not charge GST to a
//!   GST-registered business customer that gives its GST (IRD) number.
//! - **SG** (IRAS e-Tax Guide "GST: Taxing imported services by way of an overseas vendor registration regime",
//!   and the reverse charge for GST-registered businesses): an overseas vendor does not charge GST to a
//!   GST-registered business customer that gives its GST registration number.
//! - **CA** (CRA, "GST/HST for digital economy businesses"; Excise Tax Act Part IX, Division II, Subdivision E, the
//!   simplified regime): a non-resident vendor under the simplified regime does not charge GST/HST to a customer
//!   that gives its GST/HST registration number. Only GST/HST: provincial PST/QST keep their own rules and stay.
//!
//! Where the answer is "no tax", the line's reason is `reverse_charge`, as for the EU.

use super::address::{NormAddress, country_code};
use super::data::Tables;
use super::pipeline::Registered;
use super::resolve::EU27;
use super::types::CalcInput;
use super::{business_id, vat_id};

/// The effect of the buyer's tax id on the customer country's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relief {
    /// Taxed as usual.
    None,
    /// No tax from the supplier (reverse charge / business-customer rule): reason `reverse_charge`.
    All,
    /// Canada: GST/HST not charged, provincial taxes unchanged.
    FederalOnly,
}

/// VAT countries (beyond the EU) where a buyer VAT id on a cross-border B2B sale moves the tax to the buyer.
const VAT_NON_EU: &[&str] = &["GB", "NO", "CH", "IS", "LI"];

/// One VAT territory per country, except those that share one (Liechtenstein is in the Swiss VAT territory).
fn territory(c: &str) -> &str {
    match c {
        "LI" => "CH",
        other => other,
    }
}

/// The relief that applies to the customer country's lines; adds a warning when a tax id is present but cannot be
/// used. `regs` are the org's registrations in force (country, region).
pub(crate) fn relief(
    t: &Tables,
    input: &CalcInput<'_>,
    customer: &NormAddress,
    regs: &[Registered<'_>],
    warnings: &mut Vec<String>,
) -> Relief {
    let Some(id) = input.buyer_tax_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Relief::None;
    };
    let country = &*customer.country;
    let vat = EU27.contains(&country) || VAT_NON_EU.contains(&country);
    let valid = if vat { vat_id::valid_format(&t.vat_ids, country, id) } else { business_id::valid(country, id) };
    let what = if vat { "VAT number" } else { "business tax id" };
    match valid {
        Some(true) => {}
        Some(false) => {
            warnings.push(format!(
                "buyer tax id {id:?} is not a valid {country} {what} format; reverse charge not applied"
            ));
            return Relief::None;
        }
        None if vat => {
            warnings.push(format!("no VAT number format for {country}; reverse charge not applied"));
            return Relief::None;
        }
        None => return Relief::None,
    }
    let origin = input.settings.origin_address.as_ref().or(input.ship_from.as_ref()).map(|a| country_code(&a.country));
    let foreign = match origin {
        Some(o) => territory(&o) != territory(country),
        None => {
            warnings.push("seller origin country unknown; reverse charge not applied".into());
            return Relief::None;
        }
    };
    if !foreign {
        return Relief::None;
    }
    if territory(country) == "CH" && regs.iter().any(|(c, _)| territory(c) == "CH") {
        // Art. 45 MWSTG: no acquisition tax on services of a supplier in the Swiss VAT register.
        return Relief::None;
    }
    if country == "CA" { Relief::FederalOnly } else { Relief::All }
}
