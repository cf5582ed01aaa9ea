//! The account link's life: it must be re-authorized every 60 days; owners are told 7 days before, once per
//! period; password changes, revocations and message access turned off break it early.

use crate::graph::GraphError;
use crate::time::{DAY_MS, TimestampMs};

/// The helpdesk's rule: re-authorize every 60 days.
pub const LINK_LIFETIME_MS: u64 = 60 * DAY_MS;
/// Owners are told this long before expiry.
pub const NOTICE_BEFORE_MS: u64 = 7 * DAY_MS;
/// Meta refreshes only tokens at least this old.
pub const MIN_REFRESH_AGE_MS: u64 = DAY_MS;
/// Refresh once this little is left: well before the 7-day notice.
pub const REFRESH_WHEN_LEFT_MS: u64 = 30 * DAY_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    Facebook,
    Instagram,
}

impl LoginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Facebook => "facebook",
            Self::Instagram => "instagram",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub now: TimestampMs,
    pub linked_at: TimestampMs,
    pub token_expires_at: Option<TimestampMs>,
    pub last_notice_at: Option<TimestampMs>,
    pub owners: Vec<String>,
    pub last_error: Option<GraphError>,
    pub last_error_at: Option<TimestampMs>,
    pub language: Option<String>,
    pub login: LoginKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Active,
    ExpiringSoon,
    Expired,
    Broken,
}

/// Why a link needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub state: LinkState,
    pub expires_at: TimestampMs,
    pub notify: Vec<String>,
    pub notice: Option<String>,
    pub refresh: bool,
    pub reason: Option<Reason>,
}

/// What to do about a link at `link.now`.
pub fn evaluate(link: &Link) -> Decision {
    let expires_at = link.token_expires_at.unwrap_or(link.linked_at.saturating_add(LINK_LIFETIME_MS));
    let notice_from = expires_at.saturating_sub(NOTICE_BEFORE_MS);
    let broken = link.last_error.as_ref().and_then(Reason::of_error);
    // The period a notice belongs to starts with the break, or 7 days before expiry: one notice per period.
    let (state, reason, period_start) = match broken {
        Some(Reason::TokenExpired) => {
            (LinkState::Expired, Some(Reason::TokenExpired), link.last_error_at.unwrap_or(link.linked_at))
        }
        Some(reason) => (LinkState::Broken, Some(reason), link.last_error_at.unwrap_or(link.linked_at)),
        None if link.now >= expires_at => (LinkState::Expired, Some(Reason::Expired), notice_from),
        None if link.now >= notice_from => (LinkState::ExpiringSoon, Some(Reason::Expiring), notice_from),
        None => (LinkState::Active, None, TimestampMs::MAX),
    };
    let told = link.last_notice_at.is_some_and(|at| at >= period_start);
    let notify = if reason.is_some() && !told { link.owners.clone() } else { Vec::new() };
    let issued_at = expires_at.saturating_sub(LINK_LIFETIME_MS);
    let refresh = link.login == LoginKind::Instagram
        && matches!(state, LinkState::Active | LinkState::ExpiringSoon)
        && link.now >= issued_at.saturating_add(MIN_REFRESH_AGE_MS)
        && expires_at.saturating_sub(link.now) <= REFRESH_WHEN_LEFT_MS;
    let notice = reason.map(|r| crate::notice::text(r, expires_at, link.language.as_deref()));
    Decision { state, expires_at, notify, notice, refresh, reason }
}
