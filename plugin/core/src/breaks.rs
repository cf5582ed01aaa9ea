//! Why an account link needs attention: its expiry, or an early break that a Graph error reveals.

use crate::graph::GraphError;

/// Why a link needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    Expiring,
    Expired,
    TokenExpired,
    PasswordChanged,
    Revoked,
    LoginRequired,
    MessageAccessOff,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expiring => "expiring",
            Self::Expired => "expired",
            Self::TokenExpired => "token-expired",
            Self::PasswordChanged => "password-changed",
            Self::Revoked => "revoked",
            Self::LoginRequired => "login-required",
            Self::MessageAccessOff => "message-access-off",
        }
    }

    /// The reason of a name `as_str` gave; none for any other text.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Expiring,
            Self::Expired,
            Self::TokenExpired,
            Self::PasswordChanged,
            Self::Revoked,
            Self::LoginRequired,
            Self::MessageAccessOff,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == name)
    }

    /// The early break a Graph error means for the link, if any.
    pub fn of_error(error: &GraphError) -> Option<Self> {
        match (error.code, error.subcode) {
            (190, Some(463)) => Some(Self::TokenExpired),
            (190, Some(460)) => Some(Self::PasswordChanged),
            (190, Some(459 | 464)) => Some(Self::LoginRequired),
            (190, _) | (102, _) => Some(Self::Revoked),
            (200..=299, _) if error.code != 230 => Some(Self::MessageAccessOff),
            _ => None,
        }
    }
}
