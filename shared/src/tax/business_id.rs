//! Buyer business identifiers of the GST countries whose B2B rule depends on them (AU, NZ, SG, CA): format and,
//! where the issuer publishes one, the check digit. Like VAT numbers (`vat_id.rs`) this is a *format* check, no
//! registry lookup: a number that passes proves nothing about registration, it only screens out typos before the
//! engine stops charging tax.
//!
//! Algorithms (the issuers' specifications; python-stdnum's `au/abn.py`, `nz/ird.py`, `ca/bn.py`, `sg/uen.py`
//! implement the same, which our tests cross-check with their published examples):
//! - **ABN** (Australian Business Register, "Format of the ABN"): 11 digits; subtract 1 from the first digit,
//!   weights 10, 1, 3, 5, … 19, weighted sum divisible by 89.
//! - **NZ IRD / GST number** (Inland Revenue, RWT/NRWT specification v1.0 "IRD number validation"): 8 or 9 digits
//!   (8 padded with a leading 0), between 10,000,000 and 150,000,000; mod-11 check digit with weights
//!   3, 2, 7, 6, 5, 4, 3, 2, falling back to 7, 4, 3, 2, 5, 2, 7, 6 when the first gives 10. A NZ GST number *is*
//!   the business's IRD number.
//! - **Canadian GST/HST registration number** (CRA, "Business number"; GST/HST registry): the 9-digit BN (Luhn check
//!   digit) followed by the GST/HST program identifier `RT` and a 4-digit reference (`123456782RT0001`). A bare BN
//!   does not show a GST/HST account and is not accepted.
//! - **Singapore GST registration number** (IRAS: the GST registration number is the business's UEN; UEN formats
//!   of ACRA/uen.gov.sg): business `########@`, local company `#########@` (year + 5 digits + check letter), other
//!   entities `T##@@####@` / `S##@@####@` / `R##@@####@`. Format only: IRAS publishes no check-letter algorithm.
//!   GST numbers of the older `M…` series (entities without a UEN) are not recognised, so the engine keeps charging
//!   GST for them and says so in a warning.

use super::vat_id::normalise;

/// Whether `id` is a well-formed business id of `country`. `None` when the country has no such rule here.
pub(crate) fn valid(country: &str, id: &str) -> Option<bool> {
    let id = normalise(id);
    match country {
        "AU" => Some(abn(id.strip_prefix("ABN").unwrap_or(&id))),
        "NZ" => Some(nz_ird(id.strip_prefix("NZ").unwrap_or(&id))),
        "CA" => Some(ca_gst_hst(&id)),
        "SG" => Some(sg_uen(&id)),
        _ => None,
    }
}

fn digits(s: &str) -> Option<Vec<u32>> {
    s.chars().map(|c| c.to_digit(10)).collect()
}

fn abn(s: &str) -> bool {
    let Some(mut d) = digits(s).filter(|d| d.len() == 11) else { return false };
    if d[0] == 0 {
        return false;
    }
    d[0] -= 1;
    const W: [u32; 11] = [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19];
    d.iter().zip(W).map(|(x, w)| x * w).sum::<u32>().is_multiple_of(89)
}

fn nz_ird(s: &str) -> bool {
    let Some(mut d) = digits(s).filter(|d| d.len() == 8 || d.len() == 9) else { return false };
    if d.len() == 8 {
        d.insert(0, 0);
    }
    let n = d.iter().fold(0u64, |acc, x| acc * 10 + u64::from(*x));
    if !(10_000_000 < n && n < 150_000_000) {
        return false;
    }
    let check = |w: [u32; 8]| (11 - d[..8].iter().zip(w).map(|(x, w)| x * w).sum::<u32>() % 11) % 11;
    let mut c = check([3, 2, 7, 6, 5, 4, 3, 2]);
    if c == 10 {
        c = check([7, 4, 3, 2, 5, 2, 7, 6]);
    }
    c != 10 && c == d[8]
}

fn luhn(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                *x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn ca_gst_hst(s: &str) -> bool {
    if s.len() != 15 || !s.is_ascii() {
        return false;
    }
    let (bn, rest) = s.split_at(9);
    let Some(d) = digits(bn) else { return false };
    luhn(&d) && rest.starts_with("RT") && rest[2..].chars().all(|c| c.is_ascii_digit())
}

fn sg_uen(s: &str) -> bool {
    let shape = |t: &str| {
        t.len() == s.len()
            && t.chars().zip(s.chars()).all(|(t, c)| match t {
                '#' => c.is_ascii_digit(),
                '@' => c.is_ascii_uppercase(),
                lit => lit == c,
            })
    };
    ["########@", "#########@", "T##@@####@", "S##@@####@", "R##@@####@"].into_iter().any(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abn_check_digits() {
        // python-stdnum's examples: 51 824 753 556 and 83 914 571 673 are valid; 99 999 999 999 is not.
        assert_eq!(valid("AU", "51 824 753 556"), Some(true));
        assert_eq!(valid("AU", "ABN 83914571673"), Some(true));
        assert_eq!(valid("AU", "99 999 999 999"), Some(false));
        assert_eq!(valid("AU", "5182475355"), Some(false));
    }

    #[test]
    fn nz_ird_check_digits() {
        // python-stdnum's examples (from the IRD specification): 49-091-850 (primary weights), 49-098-576
        // (secondary weights); 136-410-133 fails the check digit, 9125568 is too short. 35-901-981 computed by hand.
        assert_eq!(valid("NZ", "49-091-850"), Some(true));
        assert_eq!(valid("NZ", "35-901-981"), Some(true));
        assert_eq!(valid("NZ", "NZ 49-098-576"), Some(true));
        assert_eq!(valid("NZ", "136410133"), Some(false));
        assert_eq!(valid("NZ", "9125568"), Some(false));
    }

    #[test]
    fn canada_needs_the_rt_program_account() {
        // 123456782 is Luhn-valid, 123456783 is not (python-stdnum's example); a bare BN or an RC (corporate
        // income tax) account is not a GST/HST registration.
        assert_eq!(valid("CA", "123456782 RT0001"), Some(true));
        assert_eq!(valid("CA", "123456783RT0001"), Some(false));
        assert_eq!(valid("CA", "123456782"), Some(false));
        assert_eq!(valid("CA", "123456782RC0001"), Some(false));
    }

    #[test]
    fn singapore_uen_shapes() {
        assert_eq!(valid("SG", "53012345D"), Some(true));
        assert_eq!(valid("SG", "201234567A"), Some(true));
        assert_eq!(valid("SG", "T09LL0001B"), Some(true));
        assert_eq!(valid("SG", "2012345678"), Some(false));
        assert_eq!(valid("US", "53012345D"), None);
    }
}
