//! The account link's life: it must be re-authorized every 60 days; owners are told 7 days before, once per
//! period; password changes, revocations and message access turned off break it early.

pub use crate::breaks::Reason;
use crate::error::ConnectorError;
use crate::graph::GraphError;
use crate::time::{self, DAY_MS, TimestampMs};
use serde::{Deserialize, Serialize};

/// The helpdesk's rule: re-authorize every 60 days.
pub const LINK_LIFETIME_MS: u64 = 60 * DAY_MS;
/// Owners are told this long before expiry.
pub const NOTICE_BEFORE_MS: u64 = 7 * DAY_MS;
/// Meta refreshes only tokens at least this old.
pub const MIN_REFRESH_AGE_MS: u64 = DAY_MS;
/// Refresh once this little is left: well before the 7-day notice.
pub const REFRESH_WHEN_LEFT_MS: u64 = 30 * DAY_MS;

/// How an account was linked: Facebook Login (a Page's account) or Instagram Login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
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
    /// How the account was linked; Facebook Login when not said.
    pub login: Option<LoginKind>,
}

/// Where an account's link stands: `expiring-soon` within the notice period, `broken` after a Graph error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum LinkState {
    Active,
    ExpiringSoon,
    Expired,
    Broken,
}

/// Serialized as the `expiry` command's output (DESIGN.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Decision {
    pub state: LinkState,
    #[serde(serialize_with = "time::serialize")]
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
    let refresh = link.login == Some(LoginKind::Instagram)
        && matches!(state, LinkState::Active | LinkState::ExpiringSoon)
        && link.now >= issued_at.saturating_add(MIN_REFRESH_AGE_MS)
        && expires_at.saturating_sub(link.now) <= REFRESH_WHEN_LEFT_MS;
    let notice = reason.map(|r| crate::notice::text(r, expires_at, link.language.as_deref()));
    Decision { state, expires_at, notify, notice, refresh, reason }
}

/// DESIGN.md's LINK JSON, as the `expiry` command reads it.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct LinkJson {
    now: Option<String>,
    linked_at: String,
    token_expires_at: Option<String>,
    last_notice_at: Option<String>,
    #[serde(default)]
    owners: Vec<String>,
    last_error: Option<ErrorJson>,
    last_error_at: Option<String>,
    language: Option<String>,
    login: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorJson {
    code: i64,
    subcode: Option<i64>,
}

fn invalid(why: String) -> ConnectorError {
    ConnectorError::new(crate::codes::INVALID_REQUEST, why)
}

fn time_field(field: &str, text: Option<&str>) -> Result<Option<TimestampMs>, ConnectorError> {
    text.map(|t| time::parse_rfc3339(t).map_err(|e| invalid(format!("{field}: {e}")))).transpose()
}

/// `facebook` or `instagram`.
pub fn login_kind(text: &str) -> Result<LoginKind, ConnectorError> {
    match text {
        "facebook" => Ok(LoginKind::Facebook),
        "instagram" => Ok(LoginKind::Instagram),
        other => Err(invalid(format!("login is \"facebook\" or \"instagram\", not {other:?}"))),
    }
}

/// Reads a LINK; `now_ms` stands in when it has no `now`.
pub fn parse_link(bytes: &[u8], now_ms: TimestampMs) -> Result<Link, ConnectorError> {
    let link: LinkJson =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("the link is not the expiry JSON: {e}")))?;
    Ok(Link {
        now: time_field("now", link.now.as_deref())?.unwrap_or(now_ms),
        linked_at: time_field("linked-at", Some(&link.linked_at))?.unwrap_or_default(),
        token_expires_at: time_field("token-expires-at", link.token_expires_at.as_deref())?,
        last_notice_at: time_field("last-notice-at", link.last_notice_at.as_deref())?,
        owners: link.owners,
        last_error: link.last_error.map(|e| GraphError {
            code: e.code,
            subcode: e.subcode,
            is_transient: false,
            http_status: 400,
        }),
        last_error_at: time_field("last-error-at", link.last_error_at.as_deref())?,
        language: link.language,
        login: link.login.as_deref().map(login_kind).transpose()?,
    })
}
