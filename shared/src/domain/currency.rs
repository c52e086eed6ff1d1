//! ISO 4217 currencies with their minor-unit exponents, and exact conversion between decimal major
//! units (Sequence's wire format) and integer minor units (the tax API's wire format).
//!
//! Source: ISO 4217 "List one" (current currency & funds), SIX Group, amendment 179 (2025). Codes
//! without a minor unit (precious metals, testing codes, XDR, XSU, XUA) are not money and are absent.
//! Sequence's 32 invoice currencies are all in this list.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO 4217 code → number of minor-unit digits.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency. Parsed case-insensitively; displayed uppercase (`as_lower` for Sphere's wire).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency {0:?}: expected an ISO 4217 code such as \"usd\" or \"eur\"")]
pub struct UnknownCurrency(pub String);

/// A money value that does not fit its currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{amount} has more decimal places than {currency} allows ({exponent})")]
    TooPrecise { amount: Decimal, currency: Currency, exponent: u8 },
    #[error("{0} is too large")]
    Overflow(Decimal),
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, UnknownCurrency> {
        let upper = code.trim().to_ascii_uppercase();
        ISO_4217
            .binary_search_by(|(c, _)| c.cmp(&upper.as_str()))
            .ok()
            .map(|i| {
                let (c, e) = ISO_4217[i];
                let b = c.as_bytes();
                Currency { code: [b[0], b[1], b[2]], exponent: e }
            })
            .ok_or(UnknownCurrency(code.to_owned()))
    }

    /// Number of minor-unit digits (JPY 0, USD 2, KWD 3).
    pub fn exponent(self) -> u8 {
        self.exponent
    }

    /// Uppercase ISO code.
    pub fn code(&self) -> &str {
        // The bytes come from the static ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Lowercase code, as Sphere's tax API spells it.
    pub fn as_lower(&self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// Integer minor units → decimal major units (exact).
    pub fn from_minor(self, minor: i64) -> Decimal {
        Decimal::new(minor, u32::from(self.exponent))
    }

    /// Decimal major units → integer minor units. Refuses (never rounds) a value with more fraction
    /// digits than the currency has.
    pub fn to_minor(self, major: Decimal) -> Result<i64, MoneyError> {
        let scaled = major
            .checked_mul(Decimal::from(10_i64.pow(u32::from(self.exponent))))
            .ok_or(MoneyError::Overflow(major))?;
        if scaled.fract() != Decimal::ZERO {
            return Err(MoneyError::TooPrecise { amount: major, currency: self, exponent: self.exponent });
        }
        i64::try_from(scaled.trunc()).map_err(|_| MoneyError::Overflow(major))
    }

    /// Every currency we know, for listings.
    pub fn all() -> impl Iterator<Item = Currency> {
        ISO_4217.iter().filter_map(|(c, _)| Currency::parse(c).ok())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(ISO_4217.len() > 150);
    }

    #[test]
    fn exponents_of_known_currencies() {
        for (code, e) in
            [("usd", 2), ("JPY", 0), ("KWD", 3), ("eur", 2), ("CLF", 4), ("ISK", 0), ("KRW", 0), ("CLP", 0)]
        {
            assert_eq!(Currency::parse(code).unwrap().exponent(), e, "{code}");
        }
        assert!(Currency::parse("xyz").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn sequence_invoice_currencies_are_supported() {
        // Sequence's `currency` enum spans AED…ZAR; the ones it documents include JPY, KRW, CLP, ISK.
        for c in [
            "AED", "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "IDR", "ILS",
            "INR", "ISK", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RON", "SEK", "SGD", "THB", "TRY",
            "USD", "ZAR",
        ] {
            assert!(Currency::parse(c).is_ok(), "{c}");
        }
    }

    #[test]
    fn minor_unit_conversion_is_exact_and_refuses_excess_precision() {
        let usd = Currency::parse("usd").unwrap();
        assert_eq!(usd.to_minor(Decimal::from_str("20000.10").unwrap()), Ok(2_000_010));
        assert_eq!(usd.from_minor(2_000_010), Decimal::from_str("20000.10").unwrap());
        assert!(matches!(usd.to_minor(Decimal::from_str("1.005").unwrap()), Err(MoneyError::TooPrecise { .. })));
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.to_minor(Decimal::from(1500)), Ok(1500));
        assert!(jpy.to_minor(Decimal::from_str("1.5").unwrap()).is_err());
        let kwd = Currency::parse("kwd").unwrap();
        assert_eq!(kwd.to_minor(Decimal::from_str("1.234").unwrap()), Ok(1234));
        assert!(usd.to_minor(Decimal::MAX).is_err());
    }
}
