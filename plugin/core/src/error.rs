//! Errors with a stable code, as the WIT's `error-info` carries them.

use std::fmt;

/// An error a caller can act on: a stable kebab-case `code` and a `message` for people. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectorError {
    pub code: String,
    pub message: String,
}

impl ConnectorError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ConnectorError {}

/// The stable error codes.
pub mod codes {
    pub const BAD_SIGNATURE: &str = "bad-signature";
    pub const MALFORMED_PAYLOAD: &str = "malformed-payload";
    pub const UNSUPPORTED_OBJECT: &str = "unsupported-object";
    pub const STORAGE_UNAVAILABLE: &str = "storage-unavailable";
    pub const VERIFICATION_FAILED: &str = "verification-failed";
    pub const INVALID_ACCOUNT_ID: &str = "invalid-account-id";
    pub const PAYLOAD_TOO_LARGE: &str = "payload-too-large";
}
