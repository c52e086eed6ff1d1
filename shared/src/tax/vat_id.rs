//! Buyer VAT-id *format* checks (no registry lookup), from the templates in `data/vat/id-formats.csv`, which
//! `data/scripts/convert_vat.py` expands from eu-vat-rates-data's regexes. Template alphabet: `#` digit,
//! `@` letter, `*` letter or digit, anything else literal. Spaces, dots and dashes are ignored on both sides.

use std::collections::HashMap;

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
pub(crate) fn valid_format(formats: &HashMap<String, Vec<String>>, country: &str, id: &str) -> Option<bool> {
    let templates = formats.get(country)?;
    let id = normalise(id);
    Some(templates.iter().any(|t| matches(t, &id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formats() -> HashMap<String, Vec<String>> {
        let mut m = HashMap::new();
        m.insert("DE".into(), vec!["DE#########".into()]);
        m.insert("GB".into(), vec!["GB#########".into(), "GB############".into(), "GBGD###".into()]);
        m
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
