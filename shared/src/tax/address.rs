//! Address normalisation: country and region codes, ZIP / ZIP+4 parsing, place-name folding. Pure string work,
//! kept apart so the resolution code only ever sees canonical values.

use std::borrow::Cow;

use super::types::Address;

/// An address in canonical form. It borrows from the request wherever the request is already canonical (ISO codes,
/// a state code, a ZIP), so normalising the common address allocates only for the folded city name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct NormAddress<'a> {
    /// ISO alpha-2, upper case (GB for "UK", GR for "EL").
    pub country: Cow<'a, str>,
    /// Two-letter US state / Canadian province code, when given and known; elsewhere the region as given, cleaned.
    pub region: Option<Cow<'a, str>>,
    /// A US / Canadian region value that was given but is not a known code or name (cleaned).
    pub region_unknown: Option<String>,
    /// The city as given (trimmed), for messages.
    pub city: Option<&'a str>,
    /// The city folded for matching place names ([`norm_name`]), once per address.
    pub place_key: Option<String>,
    /// US: ZIP5 and optional ZIP+4 suffix.
    pub zip5: Option<u32>,
    pub zip4: Option<u16>,
    /// The postal code as given (trimmed), for messages.
    pub postal: Option<&'a str>,
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

/// Upper case, trimmed, inner whitespace collapsed; `None` when empty. Borrows a value that is already so.
pub(crate) fn clean(s: &str) -> Option<Cow<'_, str>> {
    let t = s.trim();
    let canonical =
        t.bytes().all(|b| b.is_ascii() && !b.is_ascii_lowercase() && (b == b' ' || !b.is_ascii_whitespace()))
            && !t.contains("  ");
    if canonical {
        return (!t.is_empty()).then_some(Cow::Borrowed(t));
    }
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        push_upper(&mut out, w);
    }
    (!out.is_empty()).then_some(Cow::Owned(out))
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

/// The code of a region given as its code or its name, [`clean`]ed (upper case, trimmed), with or without dots or
/// an accent ("N.Y.", "QUÉBEC"). A code is compared as two bytes (every registration and most addresses give
/// codes: a string comparison per table row was a twentieth of a calculation); only a name with dots or an accent
/// allocates.
fn region_code(table: &[(&'static str, &'static str)], s: &str) -> Option<&'static str> {
    if let &[a, b] = s.as_bytes() {
        return table.iter().find(|(c, _)| c.as_bytes() == [a, b]).map(|(c, _)| *c);
    }
    let up = if s.contains(['.', 'É']) { Cow::Owned(s.replace('.', "").replace('É', "E")) } else { Cow::Borrowed(s) };
    table.iter().find(|(c, n)| *c == up || *n == up).map(|(c, _)| *c)
}

/// Canonical country code: trimmed, upper case, "UK" → "GB", "EL" → "GR", "USA" → "US". Borrows the input when it
/// is already canonical (every request that sends ISO codes), so the hot path does not allocate.
pub(crate) fn country_code(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    let canonical = t.bytes().all(|b| b.is_ascii_uppercase()) && !matches!(t, "UK" | "EL" | "USA");
    if canonical {
        return Cow::Borrowed(t);
    }
    match t.to_ascii_uppercase().as_str() {
        "UK" => Cow::Borrowed("GB"),
        "EL" => Cow::Borrowed("GR"),
        "USA" => Cow::Borrowed("US"),
        other => Cow::Owned(other.to_owned()),
    }
}

/// A region in canonical form, for an address in `country` (canonical): `Ok` with the code of a US state or territory
/// or Canadian province (given as its code or name, any case), or for any other country the value cleaned;
/// `Err` with the cleaned value when a US / Canadian value is not a known one; `None` when empty.
pub(crate) fn region<'a>(country: &str, s: &'a str) -> Option<Result<Cow<'a, str>, String>> {
    let s = clean(s)?;
    let tables: &[&[(&'static str, &'static str)]] = match country {
        "US" => &[US_STATES, US_TERRITORIES],
        "CA" => &[CA_PROVINCES],
        _ => return Some(Ok(s)),
    };
    Some(tables.iter().find_map(|t| region_code(t, &s)).map(Cow::Borrowed).ok_or_else(|| s.into_owned()))
}

impl<'a> NormAddress<'a> {
    pub(crate) fn from(a: &'a Address) -> NormAddress<'a> {
        let country = country_code(&a.country);
        let (region, region_unknown) = match a.state.as_deref().and_then(|s| region(&country, s)) {
            None => (None, None),
            Some(Ok(r)) => (Some(r), None),
            Some(Err(unknown)) => (None, Some(unknown)),
        };
        let postal = a.postal_code.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let (zip5, zip4) = if country == "US" { postal.map_or((None, None), parse_us_zip) } else { (None, None) };
        let city = a.city.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let place_key = city.map(norm_name).filter(|k| !k.is_empty());
        NormAddress { country, region, region_unknown, city, place_key, zip5, zip4, postal }
    }
}

/// "55401", "55401-1234", "55401 1234", "554011234" → (ZIP5, ZIP+4).
pub(crate) fn parse_us_zip(s: &str) -> (Option<u32>, Option<u16>) {
    let mut digits = 0usize;
    let mut value: u64 = 0;
    for c in s.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
        let Some(d) = c.to_digit(10) else { return (None, None) };
        digits += 1;
        if digits > 9 {
            return (None, None);
        }
        value = value * 10 + u64::from(d);
    }
    match digits {
        5 => (u32::try_from(value).ok(), None),
        9 => (u32::try_from(value / 10_000).ok(), u16::try_from(value % 10_000).ok()),
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
        assert_eq!(parse_us_zip("55401 \t1234"), (Some(55401), Some(1234)));
        assert_eq!(parse_us_zip("5540112345"), (None, None));
        assert_eq!(parse_us_zip("55401-12a4"), (None, None));
    }

    #[test]
    fn states_by_code_or_name_any_case() {
        let given = addr(" us ", Some(" minnesota "), Some("55401-1234"));
        let a = NormAddress::from(&given);
        assert_eq!((&*a.country, a.region.as_deref(), a.zip5, a.zip4), ("US", Some("MN"), Some(55401), Some(1234)));
        assert_eq!(NormAddress::from(&addr("CA", Some("Québec"), None)).region.as_deref(), Some("QC"));
        assert_eq!(NormAddress::from(&addr("US", Some("Narnia"), None)).region_unknown.as_deref(), Some("NARNIA"));
        assert_eq!(NormAddress::from(&addr("ca", Some("qc"), None)).region.as_deref(), Some("QC"));
        assert_eq!(NormAddress::from(&addr("uk", None, None)).country, "GB");
        assert_eq!(NormAddress::from(&addr("US", Some("n.y."), None)).region.as_deref(), Some("NY"));
        assert_eq!(NormAddress::from(&addr("JP", Some(" tokyo  to "), None)).region.as_deref(), Some("TOKYO TO"));
    }

    /// The common request (ISO country, state code, ZIP) is normalised without copying: the hot path of every
    /// calculation (a 1-line calculation spent a third of its time in the allocator).
    #[test]
    fn canonical_values_are_borrowed() {
        let a = addr("US", Some("NY"), Some("10001"));
        let n = NormAddress::from(&a);
        assert!(matches!(n.country, Cow::Borrowed(_)) && matches!(n.region, Some(Cow::Borrowed(_))));
        assert!(
            matches!(country_code("DE"), Cow::Borrowed("DE")) && matches!(country_code(" uk"), Cow::Borrowed("GB"))
        );
        assert!(matches!(clean("TOKYO TO"), Some(Cow::Borrowed(_))) && matches!(clean("Tokyo"), Some(Cow::Owned(_))));
    }

    #[test]
    fn names_fold() {
        assert_eq!(norm_name("Saint  Paul"), "ST PAUL");
        assert_eq!(norm_name("st. paul"), "ST PAUL");
        assert_eq!(norm_name("Winston-Salem"), "WINSTON SALEM");
    }
}
