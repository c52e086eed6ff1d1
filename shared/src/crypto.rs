//! The few cryptographic primitives the connector needs, over aws-lc-rs (already linked by rustls, so
//! it costs no extra build): CSPRNG bytes, SHA-256, constant-time comparison and AES-256-GCM sealing
//! for the embedded secret store.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // SystemRandom only fails if the OS has no entropy source at all; there is no safe fallback.
    assert!(SystemRandom::new().fill(&mut buf).is_ok(), "operating system random number generator unavailable");
    buf
}

/// SHA-256 digest.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealing key must be 32 bytes")]
    BadKey,
    #[error("sealed value is corrupt or was sealed with another key")]
    Open,
}

/// AES-256-GCM with a random nonce; output = nonce ‖ ciphertext ‖ tag. `aad` binds the value to its
/// name so a sealed secret cannot be moved to another record.
pub fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::BadKey)?);
    let nonce_bytes = random_bytes(NONCE_LEN);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&nonce_bytes);
    let mut buf = plaintext.to_vec();
    k.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
        .map_err(|_| SealError::BadKey)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

pub fn open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::BadKey)?);
    if sealed.len() < NONCE_LEN {
        return Err(SealError::Open);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[..NONCE_LEN]);
    let mut buf = sealed[NONCE_LEN..].to_vec();
    let plain =
        k.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf).map_err(|_| SealError::Open)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn seal_round_trip_and_tamper() {
        let key = random_bytes(32);
        let s = seal(&key, b"name", b"secret").unwrap();
        assert!(!s.windows(6).any(|w| w == b"secret"));
        assert_eq!(open(&key, b"name", &s).unwrap(), b"secret");
        assert!(open(&key, b"other", &s).is_err());
        assert!(open(&random_bytes(32), b"name", &s).is_err());
    }

    #[test]
    fn ct_eq_checks_length_and_content() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
