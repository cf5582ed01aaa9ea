//! The `expiry` and `accounts` commands' JSON (DESIGN.md): a LINK in, a decision out; accounts without tokens.

use crate::bindings::expiry::{AccountInfo, Link, LinkDecision, LinkState, LinkedAccount, LoginKind, SelectionChange};
use crate::bindings::types::GraphError;
use messenger_core::ConnectorError;
use messenger_core::time::{format_rfc3339, parse_rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

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
    ConnectorError::new("invalid-request", why)
}

fn time(field: &str, text: Option<&str>) -> Result<Option<u64>, ConnectorError> {
    text.map(|t| parse_rfc3339(t).map_err(|e| invalid(format!("{field}: {e}")))).transpose()
}

pub fn login(text: &str) -> Result<LoginKind, ConnectorError> {
    match text {
        "facebook" => Ok(LoginKind::Facebook),
        "instagram" => Ok(LoginKind::Instagram),
        other => Err(invalid(format!("login is \"facebook\" or \"instagram\", not {other:?}"))),
    }
}

/// Reads a LINK; `now_ms` stands in when it has no `now`.
pub fn parse_link(bytes: &[u8], now_ms: u64) -> Result<Link, ConnectorError> {
    let link: LinkJson =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("the link is not the expiry JSON: {e}")))?;
    Ok(Link {
        now: time("now", link.now.as_deref())?.unwrap_or(now_ms),
        linked_at: time("linked-at", Some(&link.linked_at))?.expect("given"),
        token_expires_at: time("token-expires-at", link.token_expires_at.as_deref())?,
        last_notice_at: time("last-notice-at", link.last_notice_at.as_deref())?,
        owners: link.owners,
        last_error: link.last_error.map(|e| GraphError {
            code: e.code,
            subcode: e.subcode,
            is_transient: false,
            http_status: 400,
        }),
        last_error_at: time("last-error-at", link.last_error_at.as_deref())?,
        language: link.language,
        login: link.login.as_deref().map(login).transpose()?,
    })
}

pub fn decision(d: &LinkDecision) -> Value {
    let state = match d.state {
        LinkState::Active => "active",
        LinkState::ExpiringSoon => "expiring-soon",
        LinkState::Expired => "expired",
        LinkState::Broken => "broken",
    };
    json!({"state": state, "expires-at": format_rfc3339(d.expires_at), "notify": d.notify, "notice": d.notice,
        "refresh": d.refresh, "reason": d.reason})
}

fn login_name(login: LoginKind) -> &'static str {
    match login {
        LoginKind::Facebook => "facebook",
        LoginKind::Instagram => "instagram",
    }
}

pub fn account(a: &AccountInfo) -> Value {
    let error = a.last_error.as_ref().map(|e| json!({"code": e.code, "subcode": e.subcode}));
    json!({"account-id": a.account_id, "username": a.username, "login": login_name(a.login),
        "linked-at": format_rfc3339(a.linked_at), "token-expires-at": format_rfc3339(a.token_expires_at),
        "representative": a.representative, "last-error": error, "last-error-at": a.last_error_at.map(format_rfc3339)})
}

pub fn linked(a: &LinkedAccount) -> Value {
    json!({"account-id": a.account_id, "username": a.username, "expires-at": format_rfc3339(a.expires_at), "relinked": a.relinked})
}

pub fn change(c: &SelectionChange) -> Value {
    json!({"added": c.added, "kept": c.kept, "removed": c.removed, "warning": c.warning})
}
