//! Lowercase hex and SHA-256 digests for storage keys.

use sha2::{Digest, Sha256};

pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The hex SHA-256 of `text`: a fixed-length key for an opaque id of any length.
pub fn sha256(text: &str) -> String {
    encode(&Sha256::digest(text.as_bytes()))
}

/// Equality that takes the same time wherever the strings differ: both are hashed first, so not even the length
/// of the expected secret leaks.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
