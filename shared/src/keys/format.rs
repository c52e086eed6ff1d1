//! The Sphere API key format: `sphk_{test|live}_{secret}_{check}`.
//!
//! - `secret`: 33 base62 characters from the CSPRNG (33 × log2(62) ≈ 196 bits);
//! - `check`: 6 base62 characters of SHA-256 over everything before it, so a mistyped, truncated or
//!   random string is rejected without touching the store (GitHub's token design);
//! - the mode in the prefix binds the key to a test or a live organization, visibly.
//!
//! Only SHA-256 of the whole key is stored (for lookup) plus a display form that reveals no secret.
//! Pure: no I/O.

use crate::domain::Mode;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LEN: usize = 33;
const CHECK_LEN: usize = 6;

/// A key that passed the format and checksum test.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub mode: Mode,
    /// Lowercase hex SHA-256 of the full key: the store's lookup id.
    pub hash: String,
    /// Non-secret display form, e.g. `sphk_test_…k9Qz2a`.
    pub display: String,
}

impl std::fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ParsedKey({}, {})", self.mode, self.display)
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

fn checksum(body: &str) -> String {
    let digest = crate::crypto::sha256(body.as_bytes());
    // 6 characters from the digest, each from 8 bits mod 62 (a checksum, not a secret: bias is harmless).
    digest.iter().take(CHECK_LEN).map(|b| ALPHABET[usize::from(*b) % 62] as char).collect()
}

/// A new key. The full value exists only in the create response; store [`ParsedKey::hash`].
pub fn generate(mode: Mode) -> (String, ParsedKey) {
    let mut secret = String::new();
    while secret.len() < SECRET_LEN {
        secret.push_str(&base62(&crate::crypto::random_bytes(64), SECRET_LEN - secret.len()));
    }
    let body = format!("{}{}", prefix(mode), secret);
    let key = format!("{body}_{}", checksum(&body));
    let parsed = parse(&key).unwrap_or_else(|| unreachable!("a generated key always parses"));
    (key, parsed)
}

/// Checks format and checksum. `None` for anything that is not a well-formed key.
pub fn parse(key: &str) -> Option<ParsedKey> {
    let mode = if key.starts_with(prefix(Mode::Test)) {
        Mode::Test
    } else if key.starts_with(prefix(Mode::Live)) {
        Mode::Live
    } else {
        return None;
    };
    let rest = &key[prefix(mode).len()..];
    let (secret, check) = rest.split_once('_')?;
    if secret.len() != SECRET_LEN || check.len() != CHECK_LEN {
        return None;
    }
    if !secret.bytes().chain(check.bytes()).all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let body = &key[..prefix(mode).len() + SECRET_LEN];
    if !crate::crypto::ct_eq(checksum(body).as_bytes(), check.as_bytes()) {
        return None;
    }
    Some(ParsedKey {
        mode,
        hash: crate::crypto::sha256_hex(key.as_bytes()),
        display: format!("{}…{check}", prefix(mode)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_with_their_mode_and_differ() {
        let (a, pa) = generate(Mode::Test);
        let (b, pb) = generate(Mode::Live);
        assert!(a.starts_with("sphk_test_") && b.starts_with("sphk_live_"));
        assert_eq!(parse(&a), Some(pa.clone()));
        assert_eq!(parse(&b).unwrap().mode, Mode::Live);
        assert_ne!(pa.hash, pb.hash);
        assert!(!pa.display.contains(&a[10..20]), "display must not reveal the secret");
        assert!(!format!("{pa:?}").contains(&a[10..]));
    }

    #[test]
    fn malformed_keys_are_rejected_without_lookup() {
        let (k, _) = generate(Mode::Test);
        // any single changed character breaks the checksum
        let mut bad = k.clone().into_bytes();
        bad[15] = if bad[15] == b'a' { b'b' } else { b'a' };
        assert!(parse(std::str::from_utf8(&bad).unwrap()).is_none());
        assert!(parse(&k[..k.len() - 1]).is_none());
        assert!(parse(&k.replace("sphk_test_", "sphk_live_")).is_none());
        for s in ["", "sphk_test_", "sk_test_abc", "sphk_prod_x", "sphk_test_ä"] {
            assert!(parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn random_well_shaped_strings_fail_the_checksum() {
        // A forged key passes the checksum with probability 62^-6 ≈ 1.8e-11 per try.
        for _ in 0..2_000 {
            let secret = base62(&crate::crypto::random_bytes(128), SECRET_LEN);
            let check = base62(&crate::crypto::random_bytes(32), CHECK_LEN);
            assert!(parse(&format!("sphk_test_{secret}_{check}")).is_none());
        }
    }
}
