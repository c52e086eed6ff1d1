//! Address normalisation: country and region codes, ZIP / ZIP+4 parsing, place-name folding. Pure string work,
//! kept apart so the resolution code only ever sees canonical values.

use super::types::Address;

/// An address in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NormAddress {
    /// ISO alpha-2, upper case (GB for "UK", GR for "EL").
    pub country: String,
    /// Two-letter US state / Canadian province code, when given and known.
    pub region: Option<String>,
    /// A region value that was given but is not a known code or name.
    pub region_unknown: Option<String>,
    pub city: Option<String>,
    /// The city folded for matching place names ([`norm_name`]), once per address.
    pub place_key: Option<String>,
    /// US: ZIP5 and optional ZIP+4 suffix.
    pub zip5: Option<u32>,
    pub zip4: Option<u16>,
    /// The postal code as given (trimmed, upper case), for messages.
    pub postal: Option<String>,
}

const US_STATES: &[(&str, &str)] = &[
    ("AL", "ALABAMA"),
    ("AK", "ALASKA"),
    ("AZ", "ARIZONA"),
    ("AR", "ARKANSAS"),
    ("CA", "CALIFORNIA"),
    ("CO", "COLORADO"),
    ("CT", "CONNECTICUT"),
    ("DE", "DELAWARE"),
    ("DC", "DISTRICT OF COLUMBIA"),
    ("FL", "FLORIDA"),
    ("GA", "GEORGIA"),
    ("HI", "HAWAII"),
    ("ID", "IDAHO"),
    ("IL", "ILLINOIS"),
    ("IN", "INDIANA"),
    ("IA", "IOWA"),
    ("KS", "KANSAS"),
    ("KY", "KENTUCKY"),
    ("LA", "LOUISIANA"),
    ("ME", "MAINE"),
    ("MD", "MARYLAND"),
    ("MA", "MASSACHUSETTS"),
    ("MI", "MICHIGAN"),
    ("MN", "MINNESOTA"),
    ("MS", "MISSISSIPPI"),
    ("MO", "MISSOURI"),
    ("MT", "MONTANA"),
    ("NE", "NEBRASKA"),
    ("NV", "NEVADA"),
    ("NH", "NEW HAMPSHIRE"),
    ("NJ", "NEW JERSEY"),
    ("NM", "NEW MEXICO"),
    ("NY", "NEW YORK"),
    ("NC", "NORTH CAROLINA"),
    ("ND", "NORTH DAKOTA"),
    ("OH", "OHIO"),
    ("OK", "OKLAHOMA"),
    ("OR", "OREGON"),
    ("PA", "PENNSYLVANIA"),
    ("RI", "RHODE ISLAND"),
    ("SC", "SOUTH CAROLINA"),
    ("SD", "SOUTH DAKOTA"),
    ("TN", "TENNESSEE"),
    ("TX", "TEXAS"),
    ("UT", "UTAH"),
    ("VT", "VERMONT"),
    ("VA", "VIRGINIA"),
    ("WA", "WASHINGTON"),
    ("WV", "WEST VIRGINIA"),
    ("WI", "WISCONSIN"),
    ("WY", "WYOMING"),
];

/// Territories with a USPS code: valid US addresses for which we hold no rates.
const US_TERRITORIES: &[(&str, &str)] = &[
    ("PR", "PUERTO RICO"),
    ("GU", "GUAM"),
    ("VI", "VIRGIN ISLANDS"),
    ("AS", "AMERICAN SAMOA"),
    ("MP", "NORTHERN MARIANA ISLANDS"),
];

const CA_PROVINCES: &[(&str, &str)] = &[
    ("AB", "ALBERTA"),
    ("BC", "BRITISH COLUMBIA"),
    ("MB", "MANITOBA"),
    ("NB", "NEW BRUNSWICK"),
    ("NL", "NEWFOUNDLAND AND LABRADOR"),
    ("NS", "NOVA SCOTIA"),
    ("NT", "NORTHWEST TERRITORIES"),
    ("NU", "NUNAVUT"),
    ("ON", "ONTARIO"),
    ("PE", "PRINCE EDWARD ISLAND"),
    ("QC", "QUEBEC"),
    ("SK", "SASKATCHEWAN"),
    ("YT", "YUKON"),
];

/// Upper case, trimmed, inner whitespace collapsed; `None` when empty. One allocation.
pub(crate) fn clean(s: Option<&str>) -> Option<String> {
    let s = s?;
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        push_upper(&mut out, w);
    }
    (!out.is_empty()).then_some(out)
}

/// Appends `w` in upper case: byte-wise for ASCII (nearly every address; Unicode case mapping was a seventh of a
/// US calculation), by Unicode's rules otherwise.
fn push_upper(out: &mut String, w: &str) {
    if w.is_ascii() {
        out.extend(w.bytes().map(|b| char::from(b.to_ascii_uppercase())));
    } else {
        out.extend(w.chars().flat_map(char::to_uppercase));
    }
}

/// A place name folded for matching: upper case, letters/digits/spaces only, "SAINT" → "ST".
pub(crate) fn norm_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        if w.eq_ignore_ascii_case("saint") {
            out.push_str("ST");
        } else {
            push_upper(&mut out, w);
        }
    }
    out
}

fn region_code(table: &[(&str, &str)], s: &str) -> Option<String> {
    let up = s.replace('.', "").replace('É', "E");
    let up = up.trim();
    table.iter().find(|(c, n)| *c == up || *n == up).map(|(c, _)| (*c).to_owned())
}

/// Canonical country code: "UK" → "GB", "EL" → "GR".
pub(crate) fn country_code(s: &str) -> String {
    match s.trim().to_ascii_uppercase().as_str() {
        "UK" => "GB".to_owned(),
        "EL" => "GR".to_owned(),
        "USA" => "US".to_owned(),
        other => other.to_owned(),
    }
}

impl NormAddress {
    pub(crate) fn from(a: &Address) -> NormAddress {
        let country = country_code(&a.country);
        let state = clean(a.state.as_deref());
        let (region, region_unknown) = match (&*country, state) {
            (_, None) => (None, None),
            ("US", Some(s)) => match region_code(US_STATES, &s).or_else(|| region_code(US_TERRITORIES, &s)) {
                Some(c) => (Some(c), None),
                None => (None, Some(s)),
            },
            ("CA", Some(s)) => match region_code(CA_PROVINCES, &s) {
                Some(c) => (Some(c), None),
                None => (None, Some(s)),
            },
            (_, Some(s)) => (Some(s), None),
        };
        let postal = clean(a.postal_code.as_deref());
        let (zip5, zip4) =
            if country == "US" { postal.as_deref().map_or((None, None), parse_us_zip) } else { (None, None) };
        let place_key = a.city.as_deref().map(norm_name).filter(|k| !k.is_empty());
        NormAddress { country, region, region_unknown, city: clean(a.city.as_deref()), place_key, zip5, zip4, postal }
    }
}

/// "55401", "55401-1234", "55401 1234", "554011234" → (ZIP5, ZIP+4).
pub(crate) fn parse_us_zip(s: &str) -> (Option<u32>, Option<u16>) {
    let digits: String = s.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (None, None);
    }
    match digits.len() {
        5 => (digits.parse().ok(), None),
        9 => (digits[..5].parse().ok(), digits[5..].parse().ok()),
        _ => (None, None),
    }
}

/// Whether `code` is a US state (incl. DC) code.
pub(crate) fn is_us_state(code: &str) -> bool {
    US_STATES.iter().any(|(c, _)| *c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(country: &str, state: Option<&str>, zip: Option<&str>) -> Address {
        Address {
            country: country.into(),
            state: state.map(Into::into),
            postal_code: zip.map(Into::into),
            ..Address::default()
        }
    }

    #[test]
    fn zip_forms() {
        assert_eq!(parse_us_zip("55401"), (Some(55401), None));
        assert_eq!(parse_us_zip("55401-1234"), (Some(55401), Some(1234)));
        assert_eq!(parse_us_zip("554010001"), (Some(55401), Some(1)));
        assert_eq!(parse_us_zip("5540"), (None, None));
        assert_eq!(parse_us_zip("ABCDE"), (None, None));
    }

    #[test]
    fn states_by_code_or_name_any_case() {
        let a = NormAddress::from(&addr(" us ", Some(" minnesota "), Some("55401-1234")));
        assert_eq!(
            (a.country.as_str(), a.region.as_deref(), a.zip5, a.zip4),
            ("US", Some("MN"), Some(55401), Some(1234))
        );
        assert_eq!(NormAddress::from(&addr("CA", Some("Québec"), None)).region.as_deref(), Some("QC"));
        assert_eq!(NormAddress::from(&addr("US", Some("Narnia"), None)).region_unknown.as_deref(), Some("NARNIA"));
        assert_eq!(NormAddress::from(&addr("ca", Some("qc"), None)).region.as_deref(), Some("QC"));
        assert_eq!(NormAddress::from(&addr("uk", None, None)).country, "GB");
    }

    #[test]
    fn names_fold() {
        assert_eq!(norm_name("Saint  Paul"), "ST PAUL");
        assert_eq!(norm_name("st. paul"), "ST PAUL");
        assert_eq!(norm_name("Winston-Salem"), "WINSTON SALEM");
    }
}
