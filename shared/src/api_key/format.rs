//! The Sphere API key format: `sphk_{test|live}_{secret}_{check}`.
//!
//! - `secret`: 33 base62 characters from the CSPRNG (33 × log2(62) ≈ 196 bits);
//! - `check`: 8 base62 characters of HMAC-SHA256 under a server-side secret (the [`KeyPepper`]) over
//!   everything before it. A mistyped, truncated or random string is rejected without touching the store
//!   (GitHub's token design), and because the check is keyed, so is a *forged* well-formed key: without the
//!   pepper nobody can make a string that reaches the store or the key cache, so a flood of made-up keys can
//!   neither cost store reads nor evict real keys from the cache;
//! - the mode in the prefix binds the key to a test or a live organization, visibly.
//!
//! Keys issued before the pepper carry a 6-character unkeyed check (SHA-256). They still parse, marked
//! [`ParsedKey::legacy`], so that the tax endpoint can accept them until the documented sunset
//! (`LEGACY_API_KEYS_UNTIL`) while their owners rotate; it never caches a legacy miss.
//!
//! Only SHA-256 of the whole key is stored (for lookup) plus a display form that reveals no secret.
//! Pure: no I/O.

use crate::domain::Mode;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LEN: usize = 33;
/// Keyed check (HMAC-SHA256 under the pepper): 8 × log2(62) ≈ 47.6 bits.
const CHECK_LEN: usize = 8;
/// Unkeyed check of keys issued before the pepper (SHA-256).
const LEGACY_CHECK_LEN: usize = 6;
/// Fewest bytes of a pepper (HMAC-SHA256's block of security).
pub const PEPPER_MIN_BYTES: usize = 32;

/// The server-side secret of the key check. One per deployment, shared by the function that issues keys
/// (`connect`) and the one that verifies them (`tax`); changing it invalidates every issued key.
#[derive(Clone)]
pub struct KeyPepper(aws_lc_rs::hmac::Key);

impl std::fmt::Debug for KeyPepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPepper(…)")
    }
}

/// A pepper shorter than [`PEPPER_MIN_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("the API key pepper must have at least {PEPPER_MIN_BYTES} bytes, it has {0}")]
pub struct PepperTooShort(pub usize);

impl KeyPepper {
    pub fn new(secret: &[u8]) -> Result<Self, PepperTooShort> {
        if secret.len() < PEPPER_MIN_BYTES {
            return Err(PepperTooShort(secret.len()));
        }
        Ok(KeyPepper(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret)))
    }

    /// A fresh random pepper (64 bytes): `sphere-local`'s first start, and tests.
    pub fn random() -> Self {
        KeyPepper(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &crate::crypto::random_bytes(64)))
    }

    fn check(&self, body: &str) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.0, body.as_bytes());
        digest_chars(tag.as_ref(), CHECK_LEN)
    }
}

/// A key that passed the format and checksum test.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub mode: Mode,
    /// Lowercase hex SHA-256 of the full key: the store's lookup id.
    pub hash: String,
    /// Non-secret display form, e.g. `sphk_test_…k9Qz2a`.
    pub display: String,
    /// Issued before the pepper: its check is unkeyed, so anyone can make one that passes it.
    pub legacy: bool,
}

impl std::fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParsedKey({}, {}{})", self.mode, self.display, if self.legacy { ", legacy" } else { "" })
    }
}

fn prefix(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "sphk_test_",
        Mode::Live => "sphk_live_",
    }
}

fn base62(bytes: &[u8], n: usize) -> String {
    // Rejection-free mapping of uniform bytes is biased; use 6-bit chunks and skip values ≥ 62.
    let mut out = String::with_capacity(n);
    let mut pool = bytes.iter();
    while out.len() < n {
        let Some(b) = pool.next() else { break };
        let v = usize::from(b & 0x3f);
        if v < 62 {
            out.push(ALPHABET[v] as char);
        }
    }
    out
}

/// `n` characters from a digest, each from 8 bits mod 62 (a check, not a secret: the bias is harmless).
fn digest_chars(digest: &[u8], n: usize) -> String {
    digest.iter().take(n).map(|b| ALPHABET[usize::from(*b) % 62] as char).collect()
}

fn legacy_check(body: &str) -> String {
    digest_chars(&crate::crypto::sha256(body.as_bytes()), LEGACY_CHECK_LEN)
}

/// A new key. The full value exists only in the create response; store [`ParsedKey::hash`].
pub fn generate(mode: Mode, pepper: &KeyPepper) -> (String, ParsedKey) {
    let mut secret = String::new();
    while secret.len() < SECRET_LEN {
        secret.push_str(&base62(&crate::crypto::random_bytes(64), SECRET_LEN - secret.len()));
    }
    let body = format!("{}{}", prefix(mode), secret);
    let key = format!("{body}_{}", pepper.check(&body));
    let parsed = parse(&key, pepper).unwrap_or_else(|| unreachable!("a generated key always parses"));
    (key, parsed)
}

/// Checks format and check characters. `None` for anything that is not a well-formed key of this
/// deployment (or a legacy key, marked so).
pub fn parse(key: &str, pepper: &KeyPepper) -> Option<ParsedKey> {
    let mode = if key.starts_with(prefix(Mode::Test)) {
        Mode::Test
    } else if key.starts_with(prefix(Mode::Live)) {
        Mode::Live
    } else {
        return None;
    };
    let rest = &key[prefix(mode).len()..];
    let (secret, check) = rest.split_once('_')?;
    if secret.len() != SECRET_LEN || !(check.len() == CHECK_LEN || check.len() == LEGACY_CHECK_LEN) {
        return None;
    }
    if !secret.bytes().chain(check.bytes()).all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let body = &key[..prefix(mode).len() + SECRET_LEN];
    let legacy = check.len() == LEGACY_CHECK_LEN;
    let expected = if legacy { legacy_check(body) } else { pepper.check(body) };
    if !crate::crypto::ct_eq(expected.as_bytes(), check.as_bytes()) {
        return None;
    }
    Some(ParsedKey {
        mode,
        hash: crate::crypto::sha256_hex(key.as_bytes()),
        display: format!("{}…{check}", prefix(mode)),
        legacy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy_key(mode: Mode) -> String {
        let body = format!("{}{}", prefix(mode), base62(&crate::crypto::random_bytes(128), SECRET_LEN));
        format!("{body}_{}", legacy_check(&body))
    }

    #[test]
    fn generated_keys_parse_with_their_mode_and_differ() {
        let pepper = KeyPepper::random();
        let (a, pa) = generate(Mode::Test, &pepper);
        let (b, pb) = generate(Mode::Live, &pepper);
        assert!(a.starts_with("sphk_test_") && b.starts_with("sphk_live_"));
        assert_eq!(a.len(), "sphk_test_".len() + SECRET_LEN + 1 + CHECK_LEN);
        assert_eq!(parse(&a, &pepper), Some(pa.clone()));
        assert_eq!(parse(&b, &pepper).unwrap().mode, Mode::Live);
        assert!(!pa.legacy);
        assert_ne!(pa.hash, pb.hash);
        assert!(!pa.display.contains(&a[10..20]), "display must not reveal the secret");
        assert!(!format!("{pa:?}").contains(&a[10..]));
        assert_eq!(format!("{pepper:?}"), "KeyPepper(…)");
    }

    #[test]
    fn malformed_keys_are_rejected_without_lookup() {
        let pepper = KeyPepper::random();
        let (k, _) = generate(Mode::Test, &pepper);
        // any single changed character breaks the check
        let mut bad = k.clone().into_bytes();
        bad[15] = if bad[15] == b'a' { b'b' } else { b'a' };
        assert!(parse(std::str::from_utf8(&bad).unwrap(), &pepper).is_none());
        assert!(parse(&k[..k.len() - 1], &pepper).is_none());
        assert!(parse(&k.replace("sphk_test_", "sphk_live_"), &pepper).is_none());
        for s in ["", "sphk_test_", "sk_test_abc", "sphk_prod_x", "sphk_test_ä"] {
            assert!(parse(s, &pepper).is_none(), "{s}");
        }
    }

    #[test]
    fn a_key_of_another_pepper_is_rejected() {
        // A forger who knows the format but not the pepper: well-formed, unkeyed or wrongly keyed checks fail.
        let (k, _) = generate(Mode::Live, &KeyPepper::random());
        assert!(parse(&k, &KeyPepper::random()).is_none());
    }

    #[test]
    fn random_well_shaped_strings_fail_the_check() {
        // A forged key passes the keyed check with probability 62^-8 ≈ 4.7e-15 per try.
        let pepper = KeyPepper::random();
        for _ in 0..2_000 {
            let secret = base62(&crate::crypto::random_bytes(128), SECRET_LEN);
            let check = base62(&crate::crypto::random_bytes(32), CHECK_LEN);
            assert!(parse(&format!("sphk_test_{secret}_{check}"), &pepper).is_none());
        }
    }

    #[test]
    fn keys_issued_before_the_pepper_parse_as_legacy() {
        let pepper = KeyPepper::random();
        let old = legacy_key(Mode::Test);
        let parsed = parse(&old, &pepper).unwrap();
        assert!(parsed.legacy);
        assert_eq!(parsed.hash, crate::crypto::sha256_hex(old.as_bytes()));
        assert!(format!("{parsed:?}").contains("legacy"));
        // a legacy-shaped string with a wrong check is still garbage
        let mut bad = old.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        assert!(parse(std::str::from_utf8(&bad).unwrap(), &pepper).is_none());
    }

    #[test]
    fn a_short_pepper_is_refused() {
        assert!(KeyPepper::new(&[7u8; PEPPER_MIN_BYTES - 1]).is_err());
        assert!(KeyPepper::new(&[7u8; PEPPER_MIN_BYTES]).is_ok());
    }
}
