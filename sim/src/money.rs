//! Money as Sequence shows it: decimal strings in major units with exactly the currency's minor-unit
//! digits (`"0.00"`, not `"0"`; JPY `"1200"`). Why one place: an undocumented currency (the deliberate
//! `XBT` hard case) has no known exponent, and every amount of a document must use the same rule.

use rust_decimal::{Decimal, RoundingStrategy};
use shared::domain::Currency;

/// Minor-unit digits of a currency code; 2 for codes outside ISO 4217.
pub fn exponent(code: &str) -> u32 {
    Currency::parse(code).map_or(2, |c| u32::from(c.exponent()))
}

/// Rounds half away from zero to the currency's minor unit and shows that many decimals.
pub fn round(v: Decimal, code: &str) -> Decimal {
    let dp = exponent(code);
    let mut r = v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r
}

/// A tax rate as a fraction (`20` % → `0.2`), as line items carry it.
pub fn fraction(pct: Decimal) -> Decimal {
    (pct / Decimal::from(100)).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_currency_and_keeps_trailing_zeros() {
        assert_eq!(round(Decimal::new(1_965_625, 6), "USD").to_string(), "1.97");
        assert_eq!(round(Decimal::ZERO, "EUR").to_string(), "0.00");
        assert_eq!(round(Decimal::new(12_005, 1), "JPY").to_string(), "1201");
        assert_eq!(round(Decimal::new(1, 0), "KWD").to_string(), "1.000");
        assert_eq!(round(Decimal::new(1_005, 3), "XBT").to_string(), "1.01");
        assert_eq!(fraction(Decimal::from(20)).to_string(), "0.2");
    }
}
