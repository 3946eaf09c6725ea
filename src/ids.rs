//! Identifiers and secrets: generation, hashing and constant-time comparison.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new id: 48 bits of milliseconds then 80 random bits, in lower-case
/// Crockford base32 (26 characters). URL-safe, and ids sort by creation time.
pub fn new_id(now: crate::domain::Timestamp) -> String {
    let millis = now.timestamp_millis().max(0) as u128 & ((1u128 << 48) - 1);
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut value = millis << 80;
    for (i, byte) in random.iter().enumerate() {
        value |= (*byte as u128) << (8 * (9 - i));
    }
    let mut out = [0u8; 26];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 5 * (25 - i);
        *slot = CROCKFORD[((value >> shift) & 0x1f) as usize];
    }
    String::from_utf8(out.to_vec()).expect("alphabet is ASCII")
}

/// A new 256-bit secret, base64url without padding (43 characters).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256 of a high-entropy secret. Secrets are random, so a fast hash
/// is safe here and lets the store index it.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `secret` hashes to `expected_hash`, compared in constant time.
pub fn secret_matches(secret: &str, expected_hash: &str) -> bool {
    hash_secret(secret)
        .as_bytes()
        .ct_eq(expected_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_are_url_safe() {
        let early = chrono::DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let late = chrono::DateTime::from_timestamp_millis(1_700_000_000_001).unwrap();
        let a = new_id(early);
        let b = new_id(late);
        assert_eq!(a.len(), 26);
        assert!(a < b, "{a} should sort before {b}");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(new_id(early), new_id(early));
    }

    #[test]
    fn secrets_are_256_bits_and_hash_compare() {
        let s = new_secret();
        assert_eq!(s.len(), 43);
        let h = hash_secret(&s);
        assert!(secret_matches(&s, &h));
        assert!(!secret_matches("other", &h));
    }
}
