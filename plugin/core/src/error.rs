//! Errors with a stable code, as the WIT's `error-info` carries them.

use std::fmt;

/// An error a caller can act on: a stable kebab-case `code` and a `message` for people. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A storage failure fails the whole call: nothing of it is kept, and the caller tries again.
impl From<crate::ports::StorageError> for ConnectorError {
    fn from(error: crate::ports::StorageError) -> Self {
        Self::new(codes::STORAGE_UNAVAILABLE, format!("storage failed, nothing was kept; try again: {error:?}"))
    }
}

/// The stable error codes.
pub mod codes {
    pub const BAD_SIGNATURE: &str = "bad-signature";
    pub const MALFORMED_PAYLOAD: &str = "malformed-payload";
    pub const UNSUPPORTED_OBJECT: &str = "unsupported-object";
    pub const STORAGE_UNAVAILABLE: &str = "storage-unavailable";
    /// Another writer stored a dedup mark between this call's read of it and its write: nothing was stored, and
    /// the call may be run again (a host that runs calls concurrently does).
    pub const STORAGE_CONFLICT: &str = "storage-conflict";
    pub const VERIFICATION_FAILED: &str = "verification-failed";
    pub const INVALID_ACCOUNT_ID: &str = "invalid-account-id";
    pub const PAYLOAD_TOO_LARGE: &str = "payload-too-large";
    pub const INVALID_REQUEST: &str = "invalid-request";
    /// A reply to a customer the connector never saw write, with no `last-customer-message-at` given.
    pub const UNKNOWN_CUSTOMER: &str = "unknown-customer";
}
