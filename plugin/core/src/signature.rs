//! Meta's `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed with the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "x-hub-signature-256";

/// Whether `header` (`sha256=<64 hex>`, either case) is the HMAC of exactly `body`. The comparison is constant-time;
/// a missing, empty or malformed header is simply not valid.
pub fn is_valid(app_secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Some(claimed) = decode_hex32(hex) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else { return false };
    mac.update(body);
    mac.verify_slice(&claimed).is_ok()
}

/// `sha256=<lowercase hex>` for `body`: what Meta would send.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", crate::hex::encode(&mac.finalize().into_bytes()))
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"object":"instagram"}"#;

    #[test]
    fn accepts_its_own_signature_in_either_case() {
        let sig = sign(b"secret", BODY);
        assert!(is_valid(b"secret", BODY, Some(&sig)));
        assert!(is_valid(b"secret", BODY, Some(&sig.to_uppercase().replacen("SHA256", "sha256", 1))));
    }

    #[test]
    fn refuses_wrong_missing_and_malformed_signatures() {
        let sig = sign(b"secret", BODY);
        assert!(!is_valid(b"other", BODY, Some(&sig)));
        assert!(!is_valid(b"secret", b"{}", Some(&sig)));
        assert!(!is_valid(b"secret", BODY, None));
        assert!(!is_valid(b"secret", BODY, Some("sha256=")));
        assert!(!is_valid(b"secret", BODY, Some(&sig.replace("sha256=", "sha1="))));
        assert!(!is_valid(b"secret", BODY, Some(&format!("{sig}00"))));
        assert!(!is_valid(b"secret", BODY, Some(&sig.replace(|c: char| c.is_ascii_digit(), "z"))));
    }
}
