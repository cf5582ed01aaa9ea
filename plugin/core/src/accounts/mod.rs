//! Linked accounts: linking by code exchange, token refresh, the channel's selection (a new selection replaces the
//! whole set, as Meta does) and its representative. Tokens live only in storage.

use crate::error::ConnectorError;
use crate::expiry::{LINK_LIFETIME_MS, LoginKind, MIN_REFRESH_AGE_MS};
use crate::graph::{self, API_VERSION, FACEBOOK_GRAPH, GraphError, INSTAGRAM_GRAPH};
use crate::keys;
use crate::ports::{Http, HttpRequest, Method, Storage, StorageError};
use crate::time::{self, SECOND_MS, TimestampMs};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Instagram Login's code exchange host.
pub const INSTAGRAM_OAUTH: &str = "https://api.instagram.com/oauth/access_token";
const TIMEOUT_MS: u32 = 10_000;

/// An authorization code to exchange for the accounts it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    pub login: LoginKind,
    pub code: String,
    pub redirect_uri: String,
    pub app_id: String,
    pub app_secret: String,
    pub now: TimestampMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LinkedAccount {
    pub account_id: String,
    pub username: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub expires_at: TimestampMs,
    pub relinked: bool,
}

/// What is stored of a link, besides its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub linked_at: TimestampMs,
    pub token_expires_at: TimestampMs,
    pub username: Option<String>,
    pub instagram_login: bool,
    /// The Facebook Page the account is reached through (Facebook Login): its webhooks are subscribed on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// The ids Meta knows the person who authorized the link by: its deauthorize and data deletion callbacks name
    /// the person by one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_by: Vec<String>,
}

/// A linked account as `accounts list` shows it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AccountInfo {
    pub account_id: String,
    pub username: Option<String>,
    pub login: LoginKind,
    #[serde(serialize_with = "time::serialize")]
    pub linked_at: TimestampMs,
    #[serde(serialize_with = "time::serialize")]
    pub token_expires_at: TimestampMs,
    pub representative: bool,
    #[serde(serialize_with = "graph::serialize_code_only")]
    pub last_error: Option<GraphError>,
    #[serde(serialize_with = "time::serialize_opt")]
    pub last_error_at: Option<TimestampMs>,
}

/// What a selection adds, keeps and drops; `warning` when it drops linked accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SelectionChange {
    pub added: Vec<String>,
    pub kept: Vec<String>,
    pub removed: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(required))]
    pub warning: Option<String>,
}

fn failed(code: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(code, message)
}
pub fn link_record(storage: &impl Storage, account_id: &str) -> Result<Option<LinkRecord>, ConnectorError> {
    let bytes = storage.get(&keys::link_record(account_id)).map_err(ConnectorError::from)?;
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

fn channel_accounts(storage: &impl Storage) -> Result<Vec<String>, ConnectorError> {
    let bytes = storage.get(keys::CHANNEL_ACCOUNTS).map_err(ConnectorError::from)?;
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default())
}

/// What selecting exactly `selected` would do. A new selection replaces the whole set, so anything left out loses
/// its link: said before anything is applied.
pub fn plan_selection(selected: &[String], storage: &impl Storage) -> Result<SelectionChange, ConnectorError> {
    if let Some(bad) = selected.iter().find(|id| !keys::is_valid_id(id)) {
        return Err(failed(crate::codes::INVALID_ACCOUNT_ID, format!("{bad:?} is not an Instagram account id")));
    }
    let current = channel_accounts(storage)?;
    let mut change = SelectionChange::default();
    for id in selected {
        if change.added.contains(id) || change.kept.contains(id) {
            continue;
        }
        if current.contains(id) { change.kept.push(id.clone()) } else { change.added.push(id.clone()) }
    }
    change.removed = current.into_iter().filter(|id| !selected.contains(id)).collect();
    if !change.removed.is_empty() {
        change.warning = Some(format!(
            "this selection drops {}: Meta replaces the app's access with exactly the accounts selected, so those accounts stop receiving messages. To keep them, select the old and the new accounts together",
            change.removed.join(", ")
        ));
    }
    Ok(change)
}

/// Makes the channel's accounts exactly `selected`; dropped accounts lose their token and link (their
/// conversations and settings stay, for a later re-authorization).
pub fn apply_selection(selected: &[String], storage: &impl Storage) -> Result<SelectionChange, ConnectorError> {
    let change = plan_selection(selected, storage)?;
    // The new set is the selection itself, in its order, each account once.
    let mut ordered: Vec<&String> = Vec::new();
    for id in selected {
        if !ordered.contains(&id) {
            ordered.push(id);
        }
    }
    let write = || -> Result<(), StorageError> {
        storage.set(keys::CHANNEL_ACCOUNTS, &serde_json::to_vec(&ordered).expect("ids serialize"))?;
        for id in &change.removed {
            storage.delete(&keys::access_token(id))?;
            storage.delete(&keys::link_record(id))?;
            if storage.get(keys::CHANNEL_REPRESENTATIVE)?.as_deref() == Some(id.as_bytes()) {
                storage.delete(keys::CHANNEL_REPRESENTATIVE)?;
            }
        }
        Ok(())
    };
    write().map_err(ConnectorError::from)?;
    Ok(change)
}

/// Marks the representative account (one of the channel's), or clears it.
pub fn set_representative(account_id: Option<&str>, storage: &impl Storage) -> Result<(), ConnectorError> {
    match account_id {
        None => storage.delete(keys::CHANNEL_REPRESENTATIVE).map_err(ConnectorError::from),
        Some(id) if channel_accounts(storage)?.iter().any(|a| a == id) => {
            storage.set(keys::CHANNEL_REPRESENTATIVE, id.as_bytes()).map_err(ConnectorError::from)
        }
        Some(id) => {
            Err(failed("unknown-account", format!("{id} is not one of the channel's accounts; select it first")))
        }
    }
}

/// The channel's accounts with what is stored of each (never a token).
pub fn list(storage: &impl Storage) -> Result<Vec<AccountInfo>, ConnectorError> {
    let representative = storage.get(keys::CHANNEL_REPRESENTATIVE).map_err(ConnectorError::from)?;
    let mut accounts = Vec::new();
    for id in channel_accounts(storage)? {
        let Some(record) = link_record(storage, &id)? else { continue };
        let error: Option<Value> = storage
            .get(&keys::link_error(&id))
            .map_err(ConnectorError::from)?
            .and_then(|b| serde_json::from_slice(&b).ok());
        let last_error = error.as_ref().and_then(|e| {
            Some(GraphError {
                code: e["code"].as_i64()?,
                subcode: e["subcode"].as_i64(),
                is_transient: false,
                http_status: e["http_status"].as_u64().unwrap_or(400) as u16,
            })
        });
        let last_error_at = error.as_ref().and_then(|e| e["at"].as_u64());
        let representative = representative.as_deref() == Some(id.as_bytes());
        accounts.push(AccountInfo {
            account_id: id,
            username: record.username,
            login: if record.instagram_login { LoginKind::Instagram } else { LoginKind::Facebook },
            linked_at: record.linked_at,
            token_expires_at: record.token_expires_at,
            representative,
            last_error,
            last_error_at,
        });
    }
    Ok(accounts)
}

mod forget;
mod link;
mod subscribe;
pub use forget::{accounts_of, deauthorize, forget};
pub use link::{link_accounts, percent_encode, refresh};
pub use subscribe::{INSTAGRAM_FIELDS, PAGE_FIELDS, Subscription, subscribe, subscriptions};
