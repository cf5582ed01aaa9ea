//! The Graph API: hosts, version, tokens, and error bodies.

use crate::keys;
use crate::ports::{Storage, StorageError};
use serde::{Deserialize, Serialize};

/// The one place the Graph API version is set.
pub const API_VERSION: &str = "v23.0";
pub const FACEBOOK_GRAPH: &str = "https://graph.facebook.com";
pub const INSTAGRAM_GRAPH: &str = "https://graph.instagram.com";

/// The versioned Graph base URL for an account: Instagram Login accounts use graph.instagram.com.
pub fn base_url(storage: &impl Storage, account_id: &str) -> Result<String, StorageError> {
    let host = if uses_instagram_login(storage, account_id)? { INSTAGRAM_GRAPH } else { FACEBOOK_GRAPH };
    Ok(format!("{host}/{API_VERSION}"))
}

/// Whether the account was linked with Instagram Login (else Facebook Login, the default).
pub fn uses_instagram_login(storage: &impl Storage, account_id: &str) -> Result<bool, StorageError> {
    Ok(storage.get(&keys::login_kind(account_id))?.as_deref() == Some(b"instagram"))
}

/// The account's token, else the channel's; None when the host provisioned neither.
pub fn access_token(storage: &impl Storage, account_id: &str) -> Result<Option<String>, StorageError> {
    let token = match storage.get(&keys::access_token(account_id))? {
        Some(token) => Some(token),
        None => storage.get(keys::CHANNEL_ACCESS_TOKEN)?,
    };
    Ok(token.and_then(|t| String::from_utf8(t).ok()).filter(|t| !t.is_empty()))
}

/// Graph's error, as `{"error":{"code":..,"error_subcode":..,"is_transient":..}}`. Reported as
/// `{"code","subcode","http-status"}`: only the code and subcode carry meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct GraphError {
    pub code: i64,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub subcode: Option<i64>,
    #[serde(skip)]
    pub is_transient: bool,
    pub http_status: u16,
}

/// `{"code","subcode"}` of an error, as the accounts list shows a link's last error.
pub fn serialize_code_only<S: serde::Serializer>(error: &Option<GraphError>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match error {
        Some(error) => {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("code", &error.code)?;
            map.serialize_entry("subcode", &error.subcode)?;
            map.end()
        }
        None => s.serialize_none(),
    }
}

impl GraphError {
    /// Reads an error body; None when it is not Graph's error shape (a transport-level failure then).
    pub fn parse(http_status: u16, body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Body {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            code: i64,
            error_subcode: Option<i64>,
            #[serde(default)]
            is_transient: bool,
        }
        let body: Body = serde_json::from_slice(body).ok()?;
        let Inner { code, error_subcode, is_transient } = body.error;
        Some(Self { code, subcode: error_subcode, is_transient, http_status })
    }
}

/// Records a Graph error that breaks the account's link (a token or permission error), whichever call met it (a
/// send, a profile lookup, a backfill, a token probe), for expiry to read. True when it did break the link.
pub fn record_break(storage: &impl Storage, account_id: &str, error: &GraphError, now: u64) -> bool {
    if !classify(error).breaks_link {
        return false;
    }
    let record = break_record(error.code, error.subcode, now);
    // Best effort: a storage failure here only delays the notice until the next call meets the error.
    let _ = storage.set(&keys::link_error(account_id), &record);
    true
}

/// A broken link's stored record, `{"at":…,"code":…,"subcode":…}`, which expiry reads. A typed struct (its fields
/// in the keys' sorted order, as a JSON map wrote them) keeps `serde_json::Value`'s serializer out of the component.
pub fn break_record(code: i64, subcode: Option<i64>, at: u64) -> Vec<u8> {
    #[derive(Serialize)]
    struct Record {
        at: u64,
        code: i64,
        subcode: Option<i64>,
    }
    serde_json::to_vec(&Record { at, code, subcode }).expect("a break record serializes")
}

/// What a Graph error means for a send: when to retry, a stable code, and whether the account's link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub retry: crate::outbound::Retry,
    pub code: &'static str,
    pub explanation: &'static str,
    pub breaks_link: bool,
}

/// Sorts a Graph error by `code` and `error_subcode` only (never the message text), per the reference's table.
pub fn classify(error: &GraphError) -> Verdict {
    use crate::outbound::Retry::{Later, Never, Now, Reauthorize};
    let verdict = |retry, code, explanation| Verdict { retry, code, explanation, breaks_link: false };
    let broken = |code, explanation| Verdict { retry: Reauthorize, code, explanation, breaks_link: true };
    match (error.code, error.subcode) {
        (10, Some(2_534_022 | 2_018_278)) => {
            verdict(Never, "window-closed", "Instagram refused it: outside the allowed messaging window")
        }
        (190, Some(463)) => broken("token-expired", "the account's access token expired; re-authorize the account"),
        (190, Some(460)) => {
            broken("password-changed", "the Instagram account's password was changed; re-authorize the account")
        }
        (190, Some(458)) => broken("app-removed", "the account removed the app's access; re-authorize the account"),
        (190, _) | (102, _) => {
            broken("token-invalid", "the account's access token is no longer valid; re-authorize the account")
        }
        (230, _) => verdict(Never, "consent-required", "the customer has not messaged the business"),
        (200..=299, _) => broken(
            "permission-missing",
            "a permission is missing or was taken back (or \"Allow access to messages\" is off in the Instagram app); re-authorize",
        ),
        (10, _) => {
            verdict(Never, "permission-denied", "the app lacks a permission for this (e.g. the Human Agent feature)")
        }
        (551, _) | (100, Some(2_534_014)) => {
            verdict(Never, "customer-unavailable", "this person isn't available right now")
        }
        (100, _) => verdict(Never, "invalid-request", "Instagram refused the request as invalid"),
        (1200, _) => verdict(Now, "temporary-failure", "a temporary send failure; try once more"),
        (4 | 17 | 32 | 613 | 80_002, _) => {
            verdict(Later, "rate-limited", "Instagram's rate limit was reached; retry later")
        }
        (368, _) => {
            verdict(Later, "policy-blocked", "temporarily blocked by Instagram for policy reasons; retry in hours")
        }
        (1 | 2, _) => verdict(Later, "graph-unavailable", "Instagram had a temporary error; retry later"),
        _ if error.is_transient || error.http_status >= 500 => {
            verdict(Later, "graph-unavailable", "Instagram had a temporary error")
        }
        _ => verdict(Never, "graph-error", "Instagram refused the request"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_break_record_has_the_bytes_a_json_map_wrote() {
        assert_eq!(break_record(190, Some(458), 5), br#"{"at":5,"code":190,"subcode":458}"#);
        assert_eq!(break_record(10, None, 7), br#"{"at":7,"code":10,"subcode":null}"#);
    }

    #[test]
    fn parses_graph_error_with_and_without_subcode() {
        let body =
            br#"{"error":{"message":"x","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"A"}}"#;
        assert_eq!(
            GraphError::parse(400, body),
            Some(GraphError { code: 190, subcode: Some(460), is_transient: false, http_status: 400 })
        );
        let body = br#"{"error":{"message":"x","code":2,"is_transient":true}}"#;
        assert_eq!(GraphError::parse(500, body).map(|e| (e.subcode, e.is_transient)), Some((None, true)));
        assert_eq!(GraphError::parse(502, b"<html>bad gateway</html>"), None);
    }
}
