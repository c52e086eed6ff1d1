//! The calculation: validate → resolve each line's address → exemption / reverse charge → registration →
//! taxability → exact amounts → one rounding rule ([`super::rounding`]) → invariants.

use std::borrow::Cow;

use rust_decimal::Decimal;

use super::address::{self, NormAddress};
use super::b2b::{self, Relief};
use super::catalog;
use super::data::{Tables, in_force};
use super::error::TaxError;
use super::resolve::{EU27, Family, Juris, Resolved, resolve};
use super::rounding;
use super::types::{
    CalcInput, CalcOutput, Exemption, LineInput, LineOutput, Resolution, Rounding, TaxAmount, TaxRateInfo,
};

/// Largest accepted |amount| in minor units (Anrok's bound, 10^11).
pub const MAX_AMOUNT: i64 = 100_000_000_000;
/// Largest number of lines per request.
pub const MAX_LINES: usize = 1_000;

/// Document rounding groups by (jurisdiction, tax type, state, rate).
type GroupKey<'a> = (&'a str, &'static str, Option<&'a str>, Decimal);

/// The request limits, in one place: the tax API checks a request's lines with this as soon as it is parsed
/// (before any store read), and [`super::Engine::calculate`] again for every other caller. Messages name the
/// line by its position in `line_items` and its id.
pub fn check_lines<'a>(lines: impl ExactSizeIterator<Item = &'a LineInput>) -> Result<(), TaxError> {
    if lines.len() == 0 {
        return Err(TaxError::Invalid("line_items must contain at least one line".into()));
    }
    if lines.len() > MAX_LINES {
        return Err(TaxError::Invalid(format!(
            "line_items has {} lines; at most {MAX_LINES} are allowed per request",
            lines.len()
        )));
    }
    for (i, l) in lines.enumerate() {
        // The line's label is built only for an error: this runs on every line of every calculation.
        let bad = |what: String| Err(TaxError::Invalid(format!("line_items[{i}] (id {:?}): {what}", l.id)));
        if l.amount.unsigned_abs() > MAX_AMOUNT.unsigned_abs() {
            return bad(format!("amount must be within ±{MAX_AMOUNT} minor units"));
        }
        if l.discount < 0 {
            return bad("discount_amount must not be negative".into());
        }
        if l.amount < 0 && l.discount != 0 {
            return bad("discount_amount is not allowed on a negative (adjustment) line".into());
        }
        if l.amount >= 0 && l.discount > l.amount {
            return bad(format!("discount_amount ({}) is larger than amount ({})", l.discount, l.amount));
        }
    }
    Ok(())
}

fn validate(input: &CalcInput<'_>) -> Result<(), TaxError> {
    check_lines(input.lines.iter())?;
    let mut unknown: Vec<String> = Vec::new();
    for l in &input.lines {
        if catalog::find(&l.tax_code).is_none() && !unknown.contains(&l.tax_code) {
            unknown.push(l.tax_code.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(TaxError::UnknownTaxCode(unknown));
    }
    Ok(())
}

/// One of the org's registrations in force on the tax date, normalised: (country, region).
pub(crate) type Registered<'a> = (Cow<'a, str>, Option<Cow<'a, str>>);

fn registered(regs: &[Registered<'_>], r: &Resolved, family: Family) -> bool {
    regs.iter().any(|(country, region)| {
        let same_region = region.is_some() && region.as_deref() == r.region.as_deref();
        match family {
            Family::UsSales => country == "US" && same_region,
            Family::CaFederal => country == "CA" && (region.is_none() || same_region),
            Family::CaPst | Family::CaQst => country == "CA" && same_region,
            Family::National => *country == r.country || (country == "EU" && EU27.contains(&&*r.country)),
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
            let state = r.region.as_deref().unwrap_or_default();
            let rule = t
                .taxability
                .get(state, catalog::us_rule_code(code))
                .and_then(|v| v.iter().find(|x| in_force(x.from, x.to, input.tax_date)));
            match rule {
                Some(x) => {
                    let basis = x.taxable_percent / Decimal::ONE_HUNDRED;
                    let reason = if basis < Decimal::ONE { "taxable_basis_reduced" } else { "standard_rated" };
                    // A product-specific rate replaces the state rate only (CT 1 %, MD 3 %); locals keep theirs.
                    let rate_override = if j.local { None } else { x.rate_override };
                    (x.taxable, basis, rate_override, reason)
                }
                None => {
                    // Tangible goods are the base of every state sales tax: no warning for them.
                    if code != "non_taxable" && code != "physical_goods" {
                        push_unique(
                            warnings,
                            format!(
                                "taxability of {code} in {state} is our category default ({}), not state-specific data",
                                if defaults.us_taxable { "taxable" } else { "exempt" }
                            ),
                        );
                    }
                    (defaults.us_taxable, Decimal::ONE, None, "standard_rated")
                }
            }
        }
        Family::CaPst => {
            if code != "non_taxable" {
                push_unique(
                    warnings,
                    format!(
                        "{} taxability of {code} is our category default, not province-specific data",
                        j.tax_type.to_uppercase()
                    ),
                );
            }
            (defaults.ca_pst_taxable, Decimal::ONE, None, "standard_rated")
        }
        Family::CaFederal | Family::CaQst | Family::National => {
            (defaults.vat_taxable, Decimal::ONE, None, "standard_rated")
        }
    }
}

/// A rate as reported: at most 4 decimal places, no trailing zeros (rounding only when there are more places, as
/// there rarely are: it was a tenth of a 1-line calculation).
fn pct(d: Decimal) -> Decimal {
    if d.scale() > 4 { d.round_dp(4).normalize() } else { d.normalize() }
}

fn push_unique(dst: &mut Vec<String>, w: String) {
    if !dst.contains(&w) {
        dst.push(w);
    }
}

/// What applies to every line with the same address and tax code (computed once per pair).
struct Template {
    reason: Option<&'static str>,
    items: Vec<Item>,
}

/// One jurisdiction that taxes the line.
struct Item {
    juris: usize,
    /// Percent applied (the jurisdiction's rate, or a product-specific override).
    rate: Decimal,
    /// Fraction of the amount that is taxable (1 unless the data reduces the basis).
    basis: Decimal,
    /// `rate × basis / 100`, so an exclusive line's exact tax is one multiplication (exact in `Decimal`).
    factor: Decimal,
    /// The rate as reported (normalised, ≤ 4 decimal places).
    percentage: Decimal,
    reason: &'static str,
}

fn template(
    t: &Tables,
    input: &CalcInput<'_>,
    regs: &[Registered<'_>],
    r: &Resolved,
    code: &str,
    federal_relief: bool,
    warnings: &mut Vec<String>,
) -> Result<Template, TaxError> {
    let any_registered = if r.juris.is_empty() {
        registered(regs, r, if r.country == "US" { Family::UsSales } else { Family::National })
    } else {
        r.juris.iter().any(|j| registered(regs, r, j.family))
    };
    if !any_registered {
        return Ok(Template { reason: Some("not_collecting"), items: Vec::new() });
    }
    if !r.covered {
        let place = r.region.as_ref().map_or_else(|| r.country.to_string(), |reg| format!("{}-{reg}", r.country));
        return Err(TaxError::NoRateData(format!("no tax rates in our data for {place} on {}", input.tax_date)));
    }
    if r.juris.is_empty() {
        return Ok(Template { reason: Some("no_tax_in_jurisdiction"), items: Vec::new() });
    }
    let mut items = Vec::new();
    let mut unregistered = false;
    let mut relieved = false;
    for (i, j) in r.juris.iter().enumerate() {
        if !registered(regs, r, j.family) {
            unregistered = true;
            continue;
        }
        if federal_relief && j.family == Family::CaFederal {
            // Canada: a GST/HST registrant's number relieves GST/HST only (b2b.rs).
            relieved = true;
            continue;
        }
        let (taxable, basis, override_rate, reason) = taxability(t, input, r, j, code, warnings);
        if taxable {
            let rate = override_rate.unwrap_or(j.rate);
            let factor = rounding::exclusive(basis, rate);
            items.push(Item { juris: i, rate, basis, factor, percentage: pct(rate), reason });
        }
    }
    if items.is_empty() {
        return Ok(Template { reason: Some(if relieved { "reverse_charge" } else { "product_exempt" }), items });
    }
    if unregistered {
        let place = r.region.as_deref().unwrap_or(&r.country);
        push_unique(warnings, format!("not registered for every tax in {place}; partial collection"));
    }
    Ok(Template { reason: None, items })
}

pub(crate) fn calculate(t: &Tables, input: &CalcInput<'_>) -> Result<CalcOutput, TaxError> {
    validate(input)?;
    let mut warnings: Vec<String> = Vec::new();
    let customer = NormAddress::from(&input.customer_address);

    // Resolve each distinct address once.
    let ship_tos: Vec<Option<NormAddress>> =
        input.lines.iter().map(|l| l.ship_to.as_ref().map(NormAddress::from)).collect();
    let mut addrs: Vec<Resolved> = Vec::new();
    let mut addr_keys: Vec<&NormAddress> = Vec::new();
    let mut line_addr: Vec<usize> = Vec::with_capacity(input.lines.len());
    for st in &ship_tos {
        let a = st.as_ref().unwrap_or(&customer);
        let idx = match addr_keys.iter().position(|k| *k == a) {
            Some(i) => i,
            None => {
                addrs.push(resolve(t, a, input.tax_date)?);
                addr_keys.push(a);
                addrs.len() - 1
            }
        };
        line_addr.push(idx);
    }
    let worst = addrs.iter().map(|r| r.resolution).min().unwrap_or(Resolution::Country);
    for r in &addrs {
        for w in &r.warnings {
            push_unique(&mut warnings, w.clone());
        }
    }

    // Registrations active on the tax date, normalised once.
    let regs: Vec<Registered<'_>> = input
        .settings
        .registrations
        .iter()
        .filter(|reg| reg.collect && in_force(reg.effective_from, reg.effective_to, input.tax_date))
        .map(|reg| {
            // Same normalisation as addresses ("minnesota" → "MN", "uk" → "GB"), borrowing canonical codes.
            let country = address::country_code(&reg.country);
            let region =
                reg.region.as_deref().and_then(|r| address::region(&country, r)).map(|r| r.unwrap_or_else(Cow::Owned));
            (country, region)
        })
        .collect();

    let exempt_everywhere = input.exemption == Exemption::Everywhere;
    // The buyer's tax id (cross-border B2B rules of the customer's country, see b2b.rs).
    let relief = if exempt_everywhere { Relief::None } else { b2b::relief(t, input, &customer, &regs, &mut warnings) };

    // One template per (address, tax code).
    let mut templates: Vec<((usize, &str), Template)> = Vec::new();
    let mut line_tpl: Vec<usize> = Vec::with_capacity(input.lines.len());
    for (l, &ai) in input.lines.iter().zip(&line_addr) {
        let key = (ai, l.tax_code.as_str());
        let idx = match templates.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let r = &addrs[ai];
                let tpl = if input.exemption.covers(&r.country, r.region.as_deref()) {
                    Template { reason: Some("customer_exempt"), items: Vec::new() }
                } else if relief == Relief::All && r.country == customer.country {
                    Template { reason: Some("reverse_charge"), items: Vec::new() }
                } else {
                    let federal_relief = relief == Relief::FederalOnly && r.country == customer.country;
                    template(t, input, &regs, r, &l.tax_code, federal_relief, &mut warnings)?
                };
                templates.push((key, tpl));
                templates.len() - 1
            }
        };
        line_tpl.push(idx);
    }

    // Exact amounts per (line, item), all lines in one vector: line `li`'s are `exacts[starts[li]..starts[li + 1]]`.
    let mut exacts: Vec<Decimal> = Vec::with_capacity(input.lines.len() * 3);
    let mut starts: Vec<usize> = Vec::with_capacity(input.lines.len() + 1);
    for (l, &ti) in input.lines.iter().zip(&line_tpl) {
        starts.push(exacts.len());
        let items = &templates[ti].1.items;
        let base = Decimal::from(l.amount - l.discount);
        if l.tax_inclusive {
            let total_rate: Decimal = items.iter().map(|p| p.rate * p.basis).sum();
            exacts.extend(items.iter().map(|p| rounding::inclusive(base, p.rate * p.basis, total_rate)));
        } else {
            exacts.extend(items.iter().map(|p| base * p.factor));
        }
    }
    starts.push(exacts.len());

    // Rounding (see rounding.rs).
    let overflow = || TaxError::Invalid("amount too large".into());
    // Amounts of an invoice-level group (org setting `document`, or a country whose law rounds per invoice and
    // rate, see `rounding::per_invoice`) are rounded once per group and handed back to the lines; the others
    // are rounded per (line, jurisdiction).
    let mut rounded: Vec<i64> = vec![0; exacts.len()];
    let mut groups: Vec<(GroupKey<'_>, Vec<usize>)> = Vec::new();
    for (li, w) in starts.windows(2).enumerate() {
        let tpl = &templates[line_tpl[li]].1;
        let r = &addrs[line_addr[li]];
        let by_law = rounding::per_invoice(&r.country, input.tax_date);
        for (ji, k) in (w[0]..w[1]).enumerate() {
            if input.settings.rounding == Rounding::Line && !by_law {
                rounded[k] = rounding::half_up(exacts[k]).ok_or_else(overflow)?;
                continue;
            }
            let item = &tpl.items[ji];
            let j = &r.juris[item.juris];
            // A national per-invoice rule groups by rate only: a free-text region (a prefecture) must not split it.
            let region = if by_law { None } else { r.region.as_deref() };
            let key = (&*j.name, j.tax_type, region, item.rate);
            match groups.iter_mut().find(|(g, _)| *g == key) {
                Some((_, v)) => v.push(k),
                None => groups.push((key, vec![k])),
            }
        }
    }
    for (_, members) in groups {
        let exact: Vec<Decimal> = members.iter().map(|k| exacts[*k]).collect();
        let total = rounding::half_up(exact.iter().sum()).ok_or_else(overflow)?;
        let shares = rounding::allocate(total, &exact).ok_or_else(overflow)?;
        for (k, s) in members.iter().zip(shares) {
            rounded[*k] = s;
        }
    }

    let mut outputs: Vec<LineOutput> = Vec::with_capacity(input.lines.len());
    for (li, l) in input.lines.iter().enumerate() {
        let tpl = &templates[line_tpl[li]].1;
        let r = &addrs[line_addr[li]];
        let amounts = &rounded[starts[li]..starts[li + 1]];
        let gross = l.amount - l.discount;
        let tax: i64 = amounts.iter().sum();
        let net = if l.tax_inclusive { gross - tax } else { gross };
        let mut tax_amounts = Vec::with_capacity(amounts.len());
        for (item, amount) in tpl.items.iter().zip(amounts) {
            let j = &r.juris[item.juris];
            let taxable_amount = if item.basis == Decimal::ONE {
                net
            } else {
                rounding::half_up(Decimal::from(net) * item.basis).ok_or_else(overflow)?
            };
            tax_amounts.push(TaxAmount {
                amount: *amount,
                taxable_amount,
                rate: TaxRateInfo {
                    percentage: item.percentage,
                    inclusive: l.tax_inclusive,
                    display_name: j.display_name.to_string(),
                    jurisdiction: j.name.to_string(),
                    country: r.country.to_string(),
                    state: r.region.as_deref().map(str::to_owned),
                    tax_type: j.tax_type,
                    taxability_reason: Some(item.reason),
                },
            });
        }
        let reason = match tpl.reason {
            None if tax_amounts.is_empty() => Some("no_tax_in_jurisdiction"),
            r => r,
        };
        outputs.push(LineOutput { id: l.id.clone(), tax_amounts, tax, reason });
    }
    let mut missing: Vec<&'static str> = Vec::new();
    for m in addrs.iter().flat_map(|r| r.missing.iter()) {
        if !missing.contains(m) {
            missing.push(m);
        }
    }
    let output =
        CalcOutput { lines: outputs, address_resolution: worst, warnings, missing_jurisdiction_types: missing };
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
            let basis_full = o.tax_amounts.iter().all(|a| a.rate.taxability_reason != Some("taxable_basis_reduced"));
            if basis_full && net + o.tax != gross {
                return bug("inclusive line does not round-trip");
            }
        }
    }
    Ok(())
}
