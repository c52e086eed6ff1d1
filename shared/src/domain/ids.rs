//! Identifiers. Every id that becomes part of a storage key is validated here once, so no id can
//! smuggle a key separator (`#`) into another tenant's partition.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An identifier that is not safe to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be 1–{max} characters of letters, digits, '-' or '_'")]
pub struct IdError {
    pub kind: &'static str,
    pub max: usize,
}

const MAX_ID_LEN: usize = 100;

fn valid(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates an id received from outside.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                if valid(&s) { Ok(Self(s)) } else { Err(IdError { kind: $kind, max: MAX_ID_LEN }) }
            }

            /// A fresh random id with this type's prefix (128 random bits).
            pub fn generate() -> Self {
                Self(format!(concat!($prefix, "{}"), random_hex(16)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// A Sphere organization (tenant). Always taken from the authenticated caller.
    OrgId, "organization id", "org_"
);
id_type!(
    /// One connection between an organization and one Sequence account.
    ConnectionId, "connection id", "conn_"
);
id_type!(
    /// A Sequence account id (a UUID in Sequence), as returned by `GET /sequence-accounts`.
    SequenceAccountId, "Sequence account id", "seqacc_"
);
id_type!(
    /// The public, non-secret id of a Sphere API key.
    KeyId, "API key id", "key_"
);

/// Lowercase hex of `n` random bytes from the system CSPRNG.
pub(crate) fn random_hex(n: usize) -> String {
    crate::crypto::hex(&crate::crypto::random_bytes(n))
}

/// A random (version 4) UUID.
pub fn new_uuid() -> String {
    uuid::Builder::from_random_bytes(random_16()).into_uuid().hyphenated().to_string()
}

/// A time-ordered (version 7, RFC 9562) UUID for `unix_ms`: 48 bits of milliseconds, then 74 random bits. The
/// id of calculation records (`sphere_tax_calculation_id`, a UUID as in Sphere): records stored under it land in
/// time order, so the store appends to its key space instead of writing all over it.
pub fn new_uuid_v7(unix_ms: i64) -> String {
    let random: [u8; 10] = random_16()[..10].try_into().unwrap_or_default();
    let ms = u64::try_from(unix_ms).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid().hyphenated().to_string()
}

/// 16 bytes from the system CSPRNG (the `uuid` crate gets its randomness from us: no RNG of its own).
fn random_16() -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&crate::crypto::random_bytes(16)[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_uuids_sort_by_time_and_carry_version_and_variant() {
        let a = new_uuid_v7(1_795_687_200_000);
        let b = new_uuid_v7(1_795_687_200_001);
        assert!(a < b, "{a} {b}");
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "7");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        // 1_795_687_200_000 ms = 0x01a2_174c_3500: the first 48 bits
        assert!(a.starts_with("01a2174c-3500-7"), "{a}");
        assert_ne!(new_uuid_v7(5), new_uuid_v7(5));
    }

    #[test]
    fn ids_reject_separators_and_empty() {
        assert!(OrgId::parse("org_1").is_ok());
        assert!(OrgId::parse("a#b").is_err());
        assert!(OrgId::parse("").is_err());
        assert!(OrgId::parse("x".repeat(101)).is_err());
        assert!(SequenceAccountId::parse("9b4d1a2e-1c2f-4b7a-9d1e-2f3a4b5c6d7e").is_ok());
        assert!(serde_json::from_str::<ConnectionId>("\"bad id\"").is_err());
    }

    #[test]
    fn generated_ids_are_unique_and_valid() {
        let a = ConnectionId::generate();
        let b = ConnectionId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("conn_"));
        assert!(ConnectionId::parse(a.as_str()).is_ok());
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
