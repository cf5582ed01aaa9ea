//! The console's one secret at work: sessions, link states and CSRF tokens are signed with HMAC-SHA256 under a key
//! derived for each purpose, so a value signed for one purpose never passes for another. Verification is
//! constant-time (ring's).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Signs and verifies the console's values.
pub(crate) struct Signer(hmac::Key);

impl Signer {
    /// A signer under `secret` (32 bytes or more).
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The base64url tag of `data` for `purpose`.
    pub fn tag(&self, purpose: &str, data: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, &framed(purpose, data)).as_ref())
    }

    /// Whether `tag` is `data`'s tag for `purpose`.
    pub fn verify(&self, purpose: &str, data: &str, tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else { return false };
        hmac::verify(&self.0, &framed(purpose, data), &tag).is_ok()
    }

    /// `value` as JSON in base64url, then its tag: readable by anyone, forgeable by nobody without the secret.
    pub fn seal(&self, purpose: &str, value: &impl Serialize) -> String {
        let data = URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("console values serialize"));
        let tag = self.tag(purpose, &data);
        format!("{data}.{tag}")
    }

    /// The value `seal` signed for `purpose`; None when the text is forged, altered or not one.
    pub fn open<T: DeserializeOwned>(&self, purpose: &str, sealed: &str) -> Option<T> {
        let (data, tag) = sealed.split_once('.')?;
        if !self.verify(purpose, data, tag) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(data).ok()?).ok()
    }
}

/// The purpose, its length and the data: no two (purpose, data) pairs frame to the same bytes.
fn framed(purpose: &str, data: &str) -> Vec<u8> {
    format!("{}:{purpose}:{data}", purpose.len()).into_bytes()
}

/// 128 random bits as 32 hex digits.
pub(crate) fn random_token() -> String {
    messenger_core::hex::encode(&random_bytes(16))
}

/// `n` bytes from the system's random generator.
fn random_bytes(n: usize) -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut bytes).expect("the system's random generator works");
    bytes
}

/// A 32-byte secret: derived from `from` (the app secret, which every node shares) when given, else random (the
/// console's sessions then end with the process).
pub(crate) fn console_secret(from: Option<&str>) -> Vec<u8> {
    match from {
        Some(secret) => {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
            hmac::sign(&key, b"messenger-console-v1").as_ref().to_vec()
        }
        None => random_bytes(32),
    }
}
