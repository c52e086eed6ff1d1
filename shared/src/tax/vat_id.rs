//! Buyer VAT-id *format* checks (no registry lookup), from the templates in `data/vat/id-formats.csv`, which
//! `data/scripts/convert_vat.py` expands from eu-vat-rates-data's regexes. Template alphabet: `#` digit,
//! `@` letter, `*` letter or digit, anything else literal. Spaces, dots and dashes are ignored on both sides.

use super::data::Map;

/// Upper case without spaces, dots and dashes.
pub(crate) fn normalise(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).flat_map(char::to_uppercase).collect()
}

fn matches(template: &str, id: &str) -> bool {
    template.chars().count() == id.chars().count()
        && template.chars().zip(id.chars()).all(|(t, c)| match t {
            '#' => c.is_ascii_digit(),
            '@' => c.is_ascii_uppercase(),
            '*' => c.is_ascii_alphanumeric(),
            lit => lit == c,
        })
}

/// Whether `id` has a valid format for `country`. `None` when we have no format for that country.
///
/// Some source templates carry no country prefix where the number is commonly written with one: Norway's is
/// `#########MVA` (the 9-digit organisation number of the Brønnøysund register plus "MVA", which
/// bokføringsforskriften § 5-1-1 puts after the number on invoices), and in cross-border use it is commonly
/// written with the ISO prefix, `NO 123 456 789 MVA`. So an id that starts with the ISO code is also tried
/// without it; templates that include the prefix (`DE#########`) are unaffected, since they need it.
pub(crate) fn valid_format(formats: &Map<String, Vec<String>>, country: &str, id: &str) -> Option<bool> {
    let templates = formats.get(country)?;
    let id = normalise(id);
    let bare = id.strip_prefix(country);
    Some(templates.iter().any(|t| matches(t, &id) || bare.is_some_and(|b| !t.starts_with(country) && matches(t, b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formats() -> Map<String, Vec<String>> {
        let mut m = Map::default();
        m.insert("DE".into(), vec!["DE#########".into()]);
        m.insert("GB".into(), vec!["GB#########".into(), "GB############".into(), "GBGD###".into()]);
        m.insert("NO".into(), vec!["#########MVA".into()]);
        m
    }

    #[test]
    fn norwegian_numbers_with_or_without_the_no_prefix() {
        let f = formats();
        for id in ["NO 123 456 789 MVA", "NO123456789MVA", "123456789MVA", "no 123.456.789 mva"] {
            assert_eq!(valid_format(&f, "NO", id), Some(true), "{id}");
        }
        for id in ["NO12345678MVA", "NO123456789", "NONO123456789MVA"] {
            assert_eq!(valid_format(&f, "NO", id), Some(false), "{id}");
        }
        // A prefix template still needs its prefix: "DE" is not stripped into a match.
        assert_eq!(valid_format(&f, "DE", "123456789"), Some(false));
    }

    #[test]
    fn de_and_gb_formats() {
        let f = formats();
        assert_eq!(valid_format(&f, "DE", "de 123 456 789"), Some(true));
        assert_eq!(valid_format(&f, "DE", "DE12345678"), Some(false));
        assert_eq!(valid_format(&f, "GB", "GB123456789012"), Some(true));
        assert_eq!(valid_format(&f, "GB", "GBGD001"), Some(true));
        assert_eq!(valid_format(&f, "GB", "GB12345678A"), Some(false));
        assert_eq!(valid_format(&f, "US", "123"), None);
    }
}
