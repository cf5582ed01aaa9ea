//! Meta's `signed_request`, as its deauthorize and data deletion callbacks send it: `<signature>.<payload>`, both
//! base64url (padding optional); the signature is the HMAC-SHA256 of the payload's base64 text, keyed with the app
//! secret; the payload is JSON with `algorithm` (`HMAC-SHA256`), `issued_at` and the person's `user_id`.

use crate::error::{ConnectorError, codes};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The most a `signed_request` may hold: Meta's are a few hundred bytes.
pub const MAX_LEN: usize = 8 * 1024;

/// What a verified request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The person the callback is about: the id Meta gave them in this app.
    pub user_id: String,
    /// When Meta issued it (Unix seconds), when it says.
    pub issued_at: Option<u64>,
}

/// Verifies `signed` with the app secret and reads it. A wrong signature (checked in constant time, before the
/// payload is read) is `bad-signature`; anything not shaped as Meta sends it is `malformed-payload`.
pub fn verify(app_secret: &[u8], signed: &str) -> Result<SignedRequest, ConnectorError> {
    let malformed = |why: &str| ConnectorError::new(codes::MALFORMED_PAYLOAD, format!("signed_request: {why}"));
    if signed.len() > MAX_LEN {
        return Err(malformed("too long"));
    }
    let (signature, payload) = signed.trim().split_once('.').ok_or_else(|| malformed("not `signature.payload`"))?;
    let signature = decode(signature).ok_or_else(|| malformed("the signature is not base64url"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes a key of any length");
    mac.update(payload.as_bytes());
    if mac.verify_slice(&signature).is_err() {
        return Err(ConnectorError::new(codes::BAD_SIGNATURE, "signed_request is not signed with the app secret"));
    }
    let payload: Value = decode(payload)
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| malformed("the payload is not base64url JSON"))?;
    if !payload["algorithm"].as_str().is_some_and(|a| a.eq_ignore_ascii_case("HMAC-SHA256")) {
        return Err(malformed("the algorithm is not HMAC-SHA256"));
    }
    // Ids are strings in Meta's payloads, but big numbers have been seen bare: both are read as text.
    let user_id = match &payload["user_id"] {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.to_string(),
        _ => return Err(malformed("no user_id")),
    };
    if !crate::keys::is_valid_id(&user_id) {
        return Err(malformed("the user_id is not an id"));
    }
    Ok(SignedRequest { user_id, issued_at: payload["issued_at"].as_u64() })
}

/// A `signed_request` for `payload` (JSON), as Meta would send it: for tests and fakes.
pub fn sign(app_secret: &[u8], payload: &Value) -> String {
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes a key of any length");
    mac.update(payload.as_bytes());
    format!("{}.{payload}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Base64url, with or without padding (Meta sends it without; some libraries pad).
fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}
