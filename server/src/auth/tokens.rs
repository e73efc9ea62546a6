//! Opaque bearer secrets (refresh tokens, email links). Only their SHA-256
//! is stored, so a database leak does not hand out working tokens.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest as _, Sha256};

/// 256 bits: beyond guessing, and more than the 128 bits email links need.
const TOKEN_BYTES: usize = 32;

/// A fresh random token, URL-safe so it fits in cookies and query strings.
pub fn generate() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form a token is stored and looked up in.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Longer than any token this server makes, with room to spare.
const MAX_PRESENTED_CHARS: usize = 512;

/// The stored form of a token someone presents (from an emailed link), or
/// `None` when it cannot be one of ours: nothing to look up.
pub fn presented_hash(raw: &str) -> Option<String> {
    let token = raw.trim();
    (!token.is_empty() && token.len() <= MAX_PRESENTED_CHARS).then(|| hash(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits_and_differ() {
        let first = generate();
        let second = generate();
        assert_ne!(first, second);
        assert_eq!(URL_SAFE_NO_PAD.decode(&first).unwrap().len(), 32);
        assert!(first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn presented_tokens_are_trimmed_and_bounded() {
        assert_eq!(presented_hash(" abc "), Some(hash("abc")));
        assert_eq!(presented_hash("  "), None);
        assert_eq!(presented_hash(&"x".repeat(513)), None);
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
