//! Which address a transaction is taxed at and the report region it falls in (pure).
//!
//! Rule (Sphere's documented preference): the shipping address when it is complete (line 1,
//! postcode, country), else the billing address. Region = `CC-SS` for the US and Canada when the
//! state/province is known (`US-MN`, `CA-ON`), else the ISO country (`DE`).

use super::model::{AddressSource, PostalAddress};

fn filled(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|v| !v.trim().is_empty())
}

pub fn is_complete(a: &PostalAddress) -> bool {
    filled(&a.line1) && filled(&a.postcode) && filled(&a.country)
}

/// Shipping if complete, else billing (when it has at least a country), else none.
pub fn choose_address(
    shipping: Option<&PostalAddress>,
    billing: Option<&PostalAddress>,
) -> (Option<PostalAddress>, AddressSource) {
    if let Some(s) = shipping.filter(|s| is_complete(s)) {
        return (Some(s.clone()), AddressSource::Shipping);
    }
    if let Some(b) = billing.filter(|b| filled(&b.country)) {
        return (Some(b.clone()), AddressSource::Billing);
    }
    match shipping.filter(|s| filled(&s.country)) {
        Some(s) => (Some(s.clone()), AddressSource::Shipping),
        None => (None, AddressSource::None),
    }
}

/// `US-MN`, `CA-ON`, `DE`; `None` without a usable country.
pub fn region_of(a: &PostalAddress) -> Option<String> {
    let country = a.country.as_deref()?.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    if (country == "US" || country == "CA")
        && let Some(state) = a.state.as_deref().map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty())
    {
        let code = state.strip_prefix(&format!("{country}-")).unwrap_or(&state).to_owned();
        if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Some(format!("{country}-{code}"));
        }
    }
    Some(country)
}

/// Does `region` fall under the filter `want` (`US` matches `US-MN`; `US-MN` only itself)?
pub fn region_matches(region: Option<&str>, want: &str) -> bool {
    let want = want.trim().to_ascii_uppercase();
    match region {
        None => want == "UNKNOWN",
        Some(r) => r == want || (!want.contains('-') && r.split('-').next() == Some(want.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(line1: &str, postcode: &str, country: &str, state: &str) -> PostalAddress {
        let o = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        PostalAddress {
            line1: o(line1),
            postcode: o(postcode),
            country: o(country),
            state: o(state),
            ..Default::default()
        }
    }

    #[test]
    fn regions() {
        assert_eq!(region_of(&addr("1", "55401", "us", "mn")).as_deref(), Some("US-MN"));
        assert_eq!(region_of(&addr("1", "M5V", "CA", "CA-ON")).as_deref(), Some("CA-ON"));
        assert_eq!(region_of(&addr("1", "10115", "DE", "Berlin")).as_deref(), Some("DE"));
        assert_eq!(region_of(&addr("1", "1", "US", "")).as_deref(), Some("US"));
        assert_eq!(region_of(&addr("1", "1", "", "")), None);
        assert!(region_matches(Some("US-MN"), "us"));
        assert!(region_matches(Some("US-MN"), "US-MN"));
        assert!(!region_matches(Some("US-MN"), "US-CA"));
        assert!(!region_matches(Some("DE"), "US"));
    }

    #[test]
    fn shipping_only_when_complete() {
        let ship = addr("", "55401", "US", "MN");
        let bill = addr("1 Main", "10115", "DE", "");
        let (a, src) = choose_address(Some(&ship), Some(&bill));
        assert_eq!((a.unwrap().country.unwrap(), src), ("DE".to_owned(), AddressSource::Billing));
        let ship = addr("2 Lake", "55401", "US", "MN");
        let (_, src) = choose_address(Some(&ship), Some(&bill));
        assert_eq!(src, AddressSource::Shipping);
        assert_eq!(choose_address(None, None).1, AddressSource::None);
    }
}
