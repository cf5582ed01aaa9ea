//! The Graph API: hosts, version, tokens, and error bodies.

use crate::keys;
use crate::ports::{Storage, StorageError};
use serde::Deserialize;

/// The one place the Graph API version is set.
pub const API_VERSION: &str = "v23.0";
pub const FACEBOOK_GRAPH: &str = "https://graph.facebook.com";
pub const INSTAGRAM_GRAPH: &str = "https://graph.instagram.com";

/// The versioned Graph base URL for an account: Instagram Login accounts use graph.instagram.com.
pub fn base_url(storage: &impl Storage, account_id: &str) -> Result<String, StorageError> {
    let host = match storage.get(&keys::login_kind(account_id))?.as_deref() {
        Some(b"instagram") => INSTAGRAM_GRAPH,
        _ => FACEBOOK_GRAPH,
    };
    Ok(format!("{host}/{API_VERSION}"))
}

/// The account's token, else the channel's; None when the host provisioned neither.
pub fn access_token(storage: &impl Storage, account_id: &str) -> Result<Option<String>, StorageError> {
    let token = match storage.get(&keys::access_token(account_id))? {
        Some(token) => Some(token),
        None => storage.get(keys::CHANNEL_ACCESS_TOKEN)?,
    };
    Ok(token.and_then(|t| String::from_utf8(t).ok()).filter(|t| !t.is_empty()))
}

/// Graph's error, as `{"error":{"code":..,"error_subcode":..,"is_transient":..}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub code: i64,
    pub subcode: Option<i64>,
    pub is_transient: bool,
    pub http_status: u16,
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

#[cfg(test)]
mod tests {
    use super::*;

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
