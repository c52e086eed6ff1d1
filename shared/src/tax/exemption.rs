//! Customer exemptions scoped to jurisdictions.
//!
//! Why scopes: an exemption certificate is issued by one state (a Texas resale certificate says nothing about
//! Georgia), and a VAT exemption by one country. An exemption therefore names where it applies: a country
//! (`DE`, `US` = every US state) or one US state / Canadian province (`US-TX`, `CA-QC`). Outside the US and
//! Canada VAT/GST is national, so a sub-national scope is refused there rather than silently ignored.
//!
//! Migration rule: an exemption that names no jurisdiction means **everywhere** ([`Exemption::Everywhere`]).
//! That is what every exemption meant before scopes existed (Sphere's `tax_exempt: true`, a Sequence customer
//! with status `TAX_EXEMPT`, stored customer records without `exempt_jurisdictions`), so nothing stored changes
//! meaning; a scope only narrows an exemption once someone names one.

use super::address::{self, country_code};
use super::error::TaxError;
use super::types::{ExemptScope, Exemption};

impl ExemptScope {
    /// Parses `CC` or `CC-REGION` (ISO 3166-1 country; a US state or Canadian province as code or name:
    /// `US-TX`, `us-texas`, `CA-Québec`). Errors name the problem, never guess.
    pub fn parse(s: &str) -> Result<ExemptScope, TaxError> {
        let s = s.trim();
        let (c, region) = match s.split_once('-') {
            Some((c, r)) => (c, Some(r.trim()).filter(|r| !r.is_empty())),
            None => (s, None),
        };
        let country = country_code(c).into_owned();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(TaxError::Invalid(format!(
                "exemption scope {s:?} must start with a two-letter ISO 3166 country code (e.g. \"US-TX\", \"DE\")"
            )));
        }
        let Some(r) = region else { return Ok(ExemptScope { country, region: None }) };
        if country != "US" && country != "CA" {
            return Err(TaxError::Invalid(format!(
                "exemption scope {s:?}: only US states and Canadian provinces can be named below the country"
            )));
        }
        match address::region(&country, r) {
            Some(Ok(region)) => Ok(ExemptScope { region: Some(region.into_owned()), country }),
            _ => Err(TaxError::Invalid(format!("exemption scope {s:?}: {r:?} is not a {country} state or province"))),
        }
    }

    fn covers(&self, country: &str, region: Option<&str>) -> bool {
        self.country == country && (self.region.is_none() || self.region.as_deref() == region)
    }
}

impl Exemption {
    /// An exemption from a list of scopes; an empty list is the legacy meaning, everywhere (see the module docs).
    pub fn scoped<S: AsRef<str>>(scopes: &[S]) -> Result<Exemption, TaxError> {
        if scopes.is_empty() {
            return Ok(Exemption::Everywhere);
        }
        Ok(Exemption::In(scopes.iter().map(|s| ExemptScope::parse(s.as_ref())).collect::<Result<_, _>>()?))
    }

    /// Whether a line taxed at (`country`, `region`) is exempt.
    pub(crate) fn covers(&self, country: &str, region: Option<&str>) -> bool {
        match self {
            Exemption::None => false,
            Exemption::Everywhere => true,
            Exemption::In(scopes) => scopes.iter().any(|s| s.covers(country, region)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> ExemptScope {
        ExemptScope::parse(s).unwrap()
    }

    #[test]
    fn parses_countries_states_and_provinces() {
        assert_eq!(scope("US-TX"), ExemptScope { country: "US".into(), region: Some("TX".into()) });
        assert_eq!(scope("us-texas"), scope("US-TX"));
        assert_eq!(scope("CA-Québec"), ExemptScope { country: "CA".into(), region: Some("QC".into()) });
        assert_eq!(scope("de"), ExemptScope { country: "DE".into(), region: None });
        assert_eq!(scope("UK"), ExemptScope { country: "GB".into(), region: None });
        for bad in ["Texas", "US-ZZ", "DE-BY", "", "1-2"] {
            assert!(matches!(ExemptScope::parse(bad), Err(TaxError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn a_scope_covers_only_what_it_names() {
        let e = Exemption::scoped(&["US-TX", "DE"]).unwrap();
        assert!(e.covers("US", Some("TX")));
        assert!(!e.covers("US", Some("GA")));
        assert!(e.covers("DE", None));
        assert!(!e.covers("FR", None));
        let us = Exemption::scoped(&["US"]).unwrap();
        assert!(us.covers("US", Some("GA")) && !us.covers("CA", Some("ON")));
    }

    #[test]
    fn no_scope_means_everywhere_as_before() {
        let e = Exemption::scoped::<&str>(&[]).unwrap();
        assert_eq!(e, Exemption::Everywhere);
        assert!(e.covers("US", Some("GA")) && e.covers("JP", None));
        assert!(!Exemption::None.covers("US", Some("GA")));
    }
}
