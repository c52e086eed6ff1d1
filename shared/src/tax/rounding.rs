//! THE rounding rule of the engine, in one place.
//!
//! Amounts are integer minor units of the invoice currency (cents; yen; fils). Every tax is first computed exactly
//! in `Decimal` (`taxable × rate / 100`, or for a tax-inclusive line `gross × rate / (100 + Σ rates)`), then:
//!
//! - [`Rounding::Line`](super::Rounding::Line) (default): each (line, jurisdiction) amount is rounded **half-up**
//!   (half away from zero, so an adjustment line rounds symmetrically to its positive twin) to the minor unit.
//!   The line's tax is the sum of its rounded jurisdiction amounts. This is what AvaTax was observed to do
//!   (research vector A1: TN $163.75 → 11.46 + 3.68 = $15.14).
//! - [`Rounding::Document`](super::Rounding::Document) (org setting): for each jurisdiction, the exact amounts of
//!   all lines are summed and the sum is rounded half-up once; that total is then handed back to the lines by
//!   **largest remainder** (each line gets the floor of its exact amount; the leftover units go one by one to the
//!   lines with the largest fractional parts, ties to the earlier line). Per-line amounts therefore always add up
//!   to the rounded document total, and a line with a positive exact amount never gets a negative one
//!   (vector A2: 4 × $2.50 at 8.625 % → $0.86, not $0.88).
//!
//! - **Per invoice and rate, by law** ([`per_invoice`]): Japan's qualified invoice system (適格請求書等保存方式,
//!   from 2023-10-01; 消費税法施行令 第70条の10 and the NTA's Q&A on the qualified invoice system, "端数処理")
//!   requires the consumption tax on a qualified invoice to be computed once per rate
//!   from the invoice's total per rate, with one rounding of the fraction per invoice and rate; rounding each line
//!   is not allowed. The direction of that one rounding is the business's choice (up, down or half), so we keep
//!   half-up. For a Japanese address the engine therefore uses the `Document` rule whatever the org's setting:
//!   one half-up rounding per (jurisdiction, rate) over the whole request, handed back to the lines by largest
//!   remainder so the lines sum to the invoice total.
//!
//! For a tax-inclusive line, the net (`taxable_amount`) is `gross − Σ rounded taxes`, so net + tax == gross exactly.

use rust_decimal::{Decimal, RoundingStrategy};

/// Whether the law of `country` fixes rounding at one per invoice and rate on `date` (Japan from 2023-10-01,
/// see the module docs).
pub(crate) fn per_invoice(country: &str, date: chrono::NaiveDate) -> bool {
    country == "JP" && date >= chrono::NaiveDate::from_ymd_opt(2023, 10, 1).unwrap_or(chrono::NaiveDate::MAX)
}

/// Rounds an exact minor-unit amount half away from zero. `None` on overflow.
pub(crate) fn half_up(exact: Decimal) -> Option<i64> {
    i64::try_from(exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)).ok()
}

/// Largest-remainder allocation of `total` over `exact` shares whose sum rounds to `total`.
/// Returns one integer per share; they sum to `total`. `None` on overflow.
pub(crate) fn allocate(total: i64, exact: &[Decimal]) -> Option<Vec<i64>> {
    let mut out = Vec::with_capacity(exact.len());
    let mut fracs = Vec::with_capacity(exact.len());
    for (i, e) in exact.iter().enumerate() {
        let floor = e.floor();
        out.push(i64::try_from(floor).ok()?);
        fracs.push((*e - floor, i));
    }
    let assigned: i64 = out.iter().sum();
    let mut left = total.checked_sub(assigned)?;
    // Largest fractional part first; ties to the earlier line.
    fracs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut k = 0;
    while left > 0 && !fracs.is_empty() {
        out[fracs[k % fracs.len()].1] += 1;
        left -= 1;
        k += 1;
    }
    while left < 0 && !fracs.is_empty() {
        // Only reachable if `total` is below Σ floor (not the case for total = half_up(Σ exact)); keep it total.
        let i = fracs[fracs.len() - 1 - (k % fracs.len())].1;
        out[i] -= 1;
        left += 1;
        k += 1;
    }
    Some(out)
}

/// Exact tax of an exclusive amount: `base × rate / 100`.
pub(crate) fn exclusive(base: Decimal, rate: Decimal) -> Decimal {
    base * rate / Decimal::ONE_HUNDRED
}

/// Exact tax share of one jurisdiction inside a tax-inclusive gross: `gross × rate / (100 + total_rate)`.
pub(crate) fn inclusive(gross: Decimal, rate: Decimal, total_rate: Decimal) -> Decimal {
    gross * rate / (Decimal::ONE_HUNDRED + total_rate)
}

#[cfg(test)]
mod tests {
    //! The vectors of research/tax-engines.md §5.2 (figures and sources cited per test).
    use super::*;
    use rust_decimal::prelude::FromPrimitive;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(amount: i64, rates: &[&str]) -> Vec<i64> {
        rates.iter().map(|r| half_up(exclusive(Decimal::from(amount), d(r))).unwrap()).collect()
    }

    #[test]
    fn a1_tennessee_per_jurisdiction_rounding() {
        // [C1] OCA/account-fiscal-rule#313: AvaTax $15.14 on $163.75 at 9.25 % (7 + 2.25), naive $15.15.
        let parts = line(16375, &["7", "2.25"]);
        assert_eq!(parts, vec![1146, 368]);
        assert_eq!(parts.iter().sum::<i64>(), 1514);
        assert_eq!(half_up(exclusive(Decimal::from(16375), d("9.25"))), Some(1515));
    }

    #[test]
    fn a2_document_level_four_lines() {
        // [C4] saleor#12348: 4 × $2.50 at 8.625 % → Stripe/TaxJar $0.86; per-line rounding → $0.88.
        let exact: Vec<Decimal> = (0..4).map(|_| exclusive(Decimal::from(250), d("8.625"))).collect();
        let total = half_up(exact.iter().sum()).unwrap();
        assert_eq!(total, 86);
        let shares = allocate(total, &exact).unwrap();
        assert_eq!(shares, vec![22, 22, 21, 21]);
        assert_eq!(shares.iter().sum::<i64>(), 86);
        assert_eq!(line(250, &["8.625"])[0] * 4, 88);
    }

    #[test]
    fn a3_levels_rounded_independently() {
        // [T6] TaxJar docs: $15 at 9 % (6.25 / 0.25 / 2.5): levels 0.94 + 0.04 + 0.38 = 1.36 (their total 1.35).
        // We round per jurisdiction, so our line tax is the sum of the levels: 1.36, and it always adds up.
        let parts = line(1500, &["6.25", "0.25", "2.5"]);
        assert_eq!(parts, vec![94, 4, 38]);
        assert_eq!(parts.iter().sum::<i64>(), 136);
    }

    #[test]
    fn a4_washington_four_levels() {
        // [C2] taxjar-go#22: $4.99 at 8.9 % (6.5 / 0.4 / 1.4 / 0.6) → 0.44; levels 0.32 / 0.02 / 0.07 / 0.03.
        let parts = line(499, &["6.5", "0.4", "1.4", "0.6"]);
        assert_eq!(parts, vec![32, 2, 7, 3]);
        assert_eq!(parts.iter().sum::<i64>(), 44);
    }

    #[test]
    fn a6_anrok_inclusive_back_calculation() {
        // [N2] Anrok: 31000 cents tax-inclusive at 4.81 % → tax 1422.6696 exact; we round to 1423, net 29577.
        let exact = inclusive(Decimal::from(31000), d("4.81"), d("4.81"));
        assert_eq!(exact.round_dp(4), d("1422.6696"));
        let tax = half_up(exact).unwrap();
        assert_eq!((tax, 31000 - tax), (1423, 29577));
    }

    #[test]
    fn a7_quaderno_inclusive_ebook() {
        // [Q2] Quaderno: €10.00 e-book FR inclusive 5.5 % → subtotal 9.48, tax 0.52.
        let tax = half_up(inclusive(Decimal::from(1000), d("5.5"), d("5.5"))).unwrap();
        assert_eq!((1000 - tax, tax), (948, 52));
    }

    #[test]
    fn a8_stripe_fee_half_up() {
        // [S10] Stripe fees: $0.43 and $4.84 at 15 % → 0.0645 → 0.06 and 0.7265 → 0.73; total 0.79.
        let a = line(43, &["15"])[0];
        let b = line(484, &["15"])[0];
        assert_eq!((a, b, a + b), (6, 73, 79));
    }

    #[test]
    fn a10_largest_remainder_sums_exactly() {
        // [L1] Lago allocation.rb: shares within one unit of exact, summing exactly to the total.
        let exact: Vec<Decimal> =
            [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0].iter().map(|x| Decimal::from_f64(x * 100.0).unwrap()).collect();
        let shares = allocate(100, &exact).unwrap();
        assert_eq!(shares.iter().sum::<i64>(), 100);
        for (s, e) in shares.iter().zip(&exact) {
            assert!((Decimal::from(*s) - e).abs() < Decimal::ONE);
        }
    }

    #[test]
    fn japan_rounds_per_invoice_from_the_qualified_invoice_system() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        assert!(per_invoice("JP", d("2023-10-01")));
        assert!(!per_invoice("JP", d("2023-09-30")));
        assert!(!per_invoice("DE", d("2026-11-01")));
    }

    #[test]
    fn half_up_is_symmetric_for_adjustments() {
        assert_eq!(half_up(d("2.5")), Some(3));
        assert_eq!(half_up(d("-2.5")), Some(-3));
        assert_eq!(half_up(d("2.4999")), Some(2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        #[test]
        fn allocation_sums_to_the_rounded_total_and_stays_within_one_unit(
            parts in proptest::collection::vec((-10_000_000i64..10_000_000, 0u32..6), 1..20),
        ) {
            let exact: Vec<Decimal> = parts.iter().map(|(m, scale)| Decimal::new(*m, *scale)).collect();
            let total = half_up(exact.iter().sum()).unwrap();
            let shares = allocate(total, &exact).unwrap();
            proptest::prop_assert_eq!(shares.iter().sum::<i64>(), total);
            for (s, e) in shares.iter().zip(&exact) {
                proptest::prop_assert!((Decimal::from(*s) - e).abs() < Decimal::ONE);
                if *e >= Decimal::ZERO {
                    proptest::prop_assert!(*s >= 0);
                }
            }
        }
    }
}
