//! The calculation: validate → resolve each line's address → exemption / reverse charge → registration →
//! taxability → exact amounts → one rounding rule ([`super::rounding`]) → invariants.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::address::NormAddress;
use super::catalog;
use super::data::{Tables, in_force};
use super::error::TaxError;
use super::resolve::{EU27, Family, Juris, Resolved, resolve};
use super::rounding;
use super::types::{CalcInput, CalcOutput, LineInput, LineOutput, Resolution, Rounding, TaxAmount, TaxRateInfo};
use super::vat_id;

/// Largest accepted |amount| in minor units (Anrok's bound, 10^11).
pub const MAX_AMOUNT: i64 = 100_000_000_000;
/// Largest number of lines per request.
pub const MAX_LINES: usize = 1_000;

/// Countries where a buyer VAT id on a cross-border B2B sale moves the tax to the buyer (reverse charge).
const REVERSE_CHARGE_NON_EU: &[&str] = &["GB", "NO", "CH", "IS", "LI"];

/// Document rounding groups by (jurisdiction, tax type, state, rate).
type GroupKey = (String, String, Option<String>, Decimal);

/// A jurisdiction's tax on one line, before rounding.
struct Pending {
    juris: Juris,
    country: String,
    state: Option<String>,
    /// Percent applied (the jurisdiction's rate, or a product-specific override).
    rate: Decimal,
    /// Fraction of the amount that is taxable (1 unless the data reduces the basis).
    basis: Decimal,
    exact: Decimal,
    reason: &'static str,
}

fn validate(input: &CalcInput<'_>) -> Result<(), TaxError> {
    if input.lines.is_empty() {
        return Err(TaxError::Invalid("at least one line is required".into()));
    }
    if input.lines.len() > MAX_LINES {
        return Err(TaxError::Invalid(format!("at most {MAX_LINES} lines per request")));
    }
    let mut unknown: Vec<String> = Vec::new();
    for l in &input.lines {
        if l.amount.abs() > MAX_AMOUNT {
            return Err(TaxError::Invalid(format!("line {:?}: |amount| must be at most {MAX_AMOUNT}", l.id)));
        }
        if l.discount < 0 {
            return Err(TaxError::Invalid(format!("line {:?}: discount must not be negative", l.id)));
        }
        if l.amount < 0 && l.discount != 0 {
            return Err(TaxError::Invalid(format!(
                "line {:?}: an adjustment (negative) line cannot have a discount",
                l.id
            )));
        }
        if l.amount >= 0 && l.discount > l.amount {
            return Err(TaxError::Invalid(format!("line {:?}: discount exceeds amount", l.id)));
        }
        if catalog::find(&l.tax_code).is_none() && !unknown.contains(&l.tax_code) {
            unknown.push(l.tax_code.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(TaxError::UnknownTaxCode(unknown));
    }
    Ok(())
}

fn registered(input: &CalcInput<'_>, r: &Resolved, family: Family) -> bool {
    input.settings.registrations.iter().any(|reg| {
        if !reg.collect || !in_force(reg.effective_from, reg.effective_to, input.tax_date) {
            return false;
        }
        let country = super::address::country_code(&reg.country);
        let region = reg.region.as_deref().map(|s| s.trim().to_ascii_uppercase());
        match family {
            Family::UsSales => country == "US" && region.is_some() && region == r.region,
            Family::CaFederal => country == "CA" && (region.is_none() || region == r.region),
            Family::CaPst | Family::CaQst => country == "CA" && region.is_some() && region == r.region,
            Family::National => country == r.country || (country == "EU" && EU27.contains(&r.country.as_str())),
        }
    })
}

/// Taxability of `code` for one jurisdiction: (taxable, basis fraction, rate override, reason).
fn taxability(
    t: &Tables,
    input: &CalcInput<'_>,
    r: &Resolved,
    j: &Juris,
    code: &str,
    warnings: &mut Vec<String>,
) -> (bool, Decimal, Option<Decimal>, &'static str) {
    let Some((_, defaults)) = catalog::find(code) else { return (false, Decimal::ONE, None, "product_exempt") };
    match j.family {
        Family::UsSales => {
            let state = r.region.clone().unwrap_or_default();
            let key = (state.clone(), catalog::us_rule_code(code).to_owned());
            let rule = t.taxability.get(&key).and_then(|v| v.iter().find(|x| in_force(x.from, x.to, input.tax_date)));
            match rule {
                Some(x) => {
                    let basis = x.taxable_percent / Decimal::ONE_HUNDRED;
                    let reason = if basis < Decimal::ONE { "taxable_basis_reduced" } else { "standard_rated" };
                    (x.taxable, basis, x.rate_override, reason)
                }
                None => {
                    // Tangible goods are the base of every state sales tax: no warning for them.
                    if code != "non_taxable" && code != "physical_goods" {
                        warnings.push(format!(
                            "taxability of {code} in {state} is our category default ({}), not state-specific data",
                            if defaults.us_taxable { "taxable" } else { "exempt" }
                        ));
                    }
                    (defaults.us_taxable, Decimal::ONE, None, "standard_rated")
                }
            }
        }
        Family::CaPst => {
            if code != "non_taxable" {
                warnings.push(format!(
                    "{} taxability of {code} is our category default, not province-specific data",
                    j.tax_type.to_uppercase()
                ));
            }
            (defaults.ca_pst_taxable, Decimal::ONE, None, "standard_rated")
        }
        Family::CaFederal | Family::CaQst | Family::National => {
            (defaults.vat_taxable, Decimal::ONE, None, "standard_rated")
        }
    }
}

/// Whether the sale is reverse-charged; adds a warning when a tax id is present but cannot be used.
fn reverse_charge(t: &Tables, input: &CalcInput<'_>, customer: &NormAddress, warnings: &mut Vec<String>) -> bool {
    let Some(id) = input.buyer_tax_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else { return false };
    let country = customer.country.as_str();
    if !(EU27.contains(&country) || REVERSE_CHARGE_NON_EU.contains(&country)) {
        return false;
    }
    match vat_id::valid_format(&t.vat_ids, country, id) {
        Some(true) => {}
        Some(false) => {
            warnings.push(format!(
                "buyer tax id {id:?} is not a valid {country} VAT number format; reverse charge not applied"
            ));
            return false;
        }
        None => {
            warnings.push(format!("no VAT number format for {country}; reverse charge not applied"));
            return false;
        }
    }
    let origin = input
        .settings
        .origin_address
        .as_ref()
        .or(input.ship_from.as_ref())
        .map(|a| super::address::country_code(&a.country));
    match origin {
        Some(o) if o == country => false,
        Some(_) => true,
        None => {
            warnings.push("seller origin country unknown; reverse charge not applied".into());
            false
        }
    }
}

fn pct(d: Decimal) -> Decimal {
    d.round_dp(4).normalize()
}

fn push_unique(dst: &mut Vec<String>, w: String) {
    if !dst.contains(&w) {
        dst.push(w);
    }
}

pub(crate) fn calculate(t: &Tables, input: &CalcInput<'_>) -> Result<CalcOutput, TaxError> {
    validate(input)?;
    let mut warnings: Vec<String> = Vec::new();
    let customer = NormAddress::from(&input.customer_address);
    let mut cache: HashMap<NormAddress, Resolved> = HashMap::new();
    let mut worst = Resolution::Zip4;
    let mut resolved_lines: Vec<Resolved> = Vec::with_capacity(input.lines.len());
    for l in &input.lines {
        let a = l.ship_to.as_ref().map(NormAddress::from).unwrap_or_else(|| customer.clone());
        let r = match cache.get(&a) {
            Some(r) => r.clone(),
            None => {
                let r = resolve(t, &a, input.tax_date)?;
                cache.insert(a, r.clone());
                r
            }
        };
        worst = worst.min(r.resolution);
        for w in &r.warnings {
            push_unique(&mut warnings, w.clone());
        }
        resolved_lines.push(r);
    }

    let exempt = input.tax_exempt;
    let reverse = !exempt && reverse_charge(t, input, &customer, &mut warnings);

    let mut outputs: Vec<LineOutput> = Vec::with_capacity(input.lines.len());
    let mut pendings: Vec<Vec<Pending>> = Vec::with_capacity(input.lines.len());
    for (l, r) in input.lines.iter().zip(&resolved_lines) {
        let mut out = LineOutput { id: l.id.clone(), tax_amounts: Vec::new(), tax: 0, reason: None };
        let mut pend = Vec::new();
        if exempt {
            out.reason = Some("customer_exempt".into());
        } else if reverse && r.country == customer.country {
            out.reason = Some("reverse_charge".into());
        } else {
            let mut any_registered = false;
            let mut any_taxable = false;
            let families: Vec<Family> = if r.juris.is_empty() && r.country == "US" {
                vec![Family::UsSales]
            } else if r.juris.is_empty() {
                vec![Family::National]
            } else {
                r.juris.iter().map(|j| j.family).collect()
            };
            any_registered |= families.iter().any(|f| registered(input, r, *f));
            if any_registered && !r.covered {
                return Err(TaxError::NoRateData(format!("no rates for {} in our data", r.country)));
            }
            for j in &r.juris {
                if !registered(input, r, j.family) {
                    continue;
                }
                let (taxable, basis, override_rate, reason) = taxability(t, input, r, j, &l.tax_code, &mut warnings);
                if !taxable {
                    continue;
                }
                any_taxable = true;
                pend.push(Pending {
                    juris: j.clone(),
                    country: r.country.clone(),
                    state: r.region.clone(),
                    rate: override_rate.unwrap_or(j.rate),
                    basis,
                    exact: Decimal::ZERO,
                    reason,
                });
            }
            if !any_registered {
                out.reason = Some("not_collecting".into());
            } else if r.juris.is_empty() {
                out.reason = Some("no_tax_in_jurisdiction".into());
            } else if !any_taxable {
                out.reason = Some("product_exempt".into());
            } else if pend.len() < r.juris.len() && r.juris.iter().any(|j| !registered(input, r, j.family)) {
                push_unique(
                    &mut warnings,
                    format!(
                        "not registered for every tax in {}; partial collection",
                        r.region.clone().unwrap_or_else(|| r.country.clone())
                    ),
                );
            }
        }
        // Exact amounts.
        let base = Decimal::from(l.amount - l.discount);
        if l.tax_inclusive {
            let total_rate: Decimal = pend.iter().map(|p| p.rate * p.basis).sum();
            for p in &mut pend {
                p.exact = rounding::inclusive(base, p.rate * p.basis, total_rate);
            }
        } else {
            for p in &mut pend {
                p.exact = rounding::exclusive(base * p.basis, p.rate);
            }
        }
        outputs.push(out);
        pendings.push(pend);
    }

    // Rounding (see rounding.rs).
    let overflow = || TaxError::Invalid("amount too large".into());
    let mut rounded: Vec<Vec<i64>> = pendings.iter().map(|p| vec![0; p.len()]).collect();
    match input.settings.rounding {
        Rounding::Line => {
            for (li, pend) in pendings.iter().enumerate() {
                for (ji, p) in pend.iter().enumerate() {
                    rounded[li][ji] = rounding::half_up(p.exact).ok_or_else(overflow)?;
                }
            }
        }
        Rounding::Document => {
            let mut groups: Vec<(GroupKey, Vec<(usize, usize)>)> = Vec::new();
            for (li, pend) in pendings.iter().enumerate() {
                for (ji, p) in pend.iter().enumerate() {
                    let key = (p.juris.name.clone(), p.juris.tax_type.clone(), p.state.clone(), p.rate);
                    match groups.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.push((li, ji)),
                        None => groups.push((key, vec![(li, ji)])),
                    }
                }
            }
            for (_, members) in groups {
                let exact: Vec<Decimal> = members.iter().map(|(li, ji)| pendings[*li][*ji].exact).collect();
                let total = rounding::half_up(exact.iter().sum()).ok_or_else(overflow)?;
                let shares = rounding::allocate(total, &exact).ok_or_else(overflow)?;
                for ((li, ji), s) in members.iter().zip(shares) {
                    rounded[*li][*ji] = s;
                }
            }
        }
    }

    for ((l, (out, pend)), amounts) in input.lines.iter().zip(outputs.iter_mut().zip(&pendings)).zip(&rounded) {
        let gross = l.amount - l.discount;
        let tax: i64 = amounts.iter().sum();
        let net = if l.tax_inclusive { gross - tax } else { gross };
        for (p, amount) in pend.iter().zip(amounts) {
            let taxable_amount = rounding::half_up(Decimal::from(net) * p.basis).ok_or_else(overflow)?;
            out.tax_amounts.push(TaxAmount {
                amount: *amount,
                taxable_amount,
                rate: TaxRateInfo {
                    percentage: pct(p.rate),
                    inclusive: l.tax_inclusive,
                    display_name: p.juris.display_name.clone(),
                    jurisdiction: p.juris.name.clone(),
                    country: p.country.clone(),
                    state: p.state.clone(),
                    tax_type: p.juris.tax_type.clone(),
                    taxability_reason: Some(p.reason.to_owned()),
                },
            });
        }
        out.tax = tax;
        if out.reason.is_none() && out.tax_amounts.is_empty() {
            out.reason = Some("no_tax_in_jurisdiction".into());
        }
    }
    let output = CalcOutput { lines: outputs, address_resolution: worst, warnings };
    check_invariants(&input.lines, &output)?;
    Ok(output)
}

/// The invariants every output satisfies (checked on every calculation; a violation is a bug, reported as an
/// error rather than a wrong invoice).
pub(crate) fn check_invariants(lines: &[LineInput], out: &CalcOutput) -> Result<(), TaxError> {
    for (l, o) in lines.iter().zip(&out.lines) {
        let sum: i64 = o.tax_amounts.iter().map(|a| a.amount).sum();
        let bug = |m: &str| Err(TaxError::Invalid(format!("internal invariant violated on line {:?}: {m}", l.id)));
        if sum != o.tax {
            return bug("line tax != sum of tax amounts");
        }
        let gross = l.amount - l.discount;
        if gross >= 0 && o.tax_amounts.iter().any(|a| a.amount < 0) {
            return bug("negative tax on a positive amount");
        }
        if l.tax_inclusive && !o.tax_amounts.is_empty() {
            let net = o.tax_amounts.first().map_or(0, |a| a.taxable_amount);
            let basis_full =
                o.tax_amounts.iter().all(|a| a.rate.taxability_reason.as_deref() != Some("taxable_basis_reduced"));
            if basis_full && net + o.tax != gross {
                return bug("inclusive line does not round-trip");
            }
        }
    }
    Ok(())
}
