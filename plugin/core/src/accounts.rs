//! Linked accounts: linking by code exchange, token refresh, the channel's selection (a new selection replaces the
//! whole set, as Meta does) and its representative. Tokens live only in storage.

use crate::error::ConnectorError;
use crate::expiry::{LINK_LIFETIME_MS, LoginKind, MIN_REFRESH_AGE_MS};
use crate::graph::{self, API_VERSION, FACEBOOK_GRAPH, GraphError, INSTAGRAM_GRAPH};
use crate::keys;
use crate::ports::{Http, HttpRequest, Method, Storage, StorageError};
use crate::time::{SECOND_MS, TimestampMs};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Instagram Login's code exchange host.
pub const INSTAGRAM_OAUTH: &str = "https://api.instagram.com/oauth/access_token";
const TIMEOUT_MS: u32 = 10_000;

pub struct LinkRequest<'a> {
    pub login: LoginKind,
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub app_id: &'a str,
    pub app_secret: &'a str,
    pub now: TimestampMs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedAccount {
    pub account_id: String,
    pub username: Option<String>,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub account_id: String,
    pub record: LinkRecord,
    pub representative: bool,
    pub last_error: Option<GraphError>,
    pub last_error_at: Option<TimestampMs>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionChange {
    pub added: Vec<String>,
    pub kept: Vec<String>,
    pub removed: Vec<String>,
    pub warning: Option<String>,
}

fn failed(code: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(code, message)
}

/// Exchanges the code for a long-lived token and stores it for every account it gives. Re-linking an account keeps
/// all its data (settings, dedup, profiles); only the token and link record are replaced.
pub fn link_accounts(
    request: &LinkRequest<'_>,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Vec<LinkedAccount>, ConnectorError> {
    let grants = match request.login {
        LoginKind::Facebook => facebook_grants(request, http)?,
        LoginKind::Instagram => instagram_grants(request, http)?,
    };
    let mut linked = Vec::new();
    for (account_id, username, token, expires_in_s) in grants {
        if !keys::is_valid_id(&account_id) {
            return Err(failed("unexpected-response", "Graph named an account id that is not an Instagram id"));
        }
        let expires_at = expires_in_s.map_or(request.now + LINK_LIFETIME_MS, |s| request.now + s * SECOND_MS);
        let relinked = storage.get(&keys::link_record(&account_id)).map_err(ConnectorError::from)?.is_some();
        let record = LinkRecord {
            linked_at: request.now,
            token_expires_at: expires_at,
            username: username.clone(),
            instagram_login: request.login == LoginKind::Instagram,
        };
        store_link(storage, &account_id, &token, &record).map_err(ConnectorError::from)?;
        storage.set(&keys::login_kind(&account_id), request.login.as_str().as_bytes()).map_err(ConnectorError::from)?;
        linked.push(LinkedAccount { account_id, username, expires_at, relinked });
    }
    Ok(linked)
}

fn store_link(storage: &impl Storage, account_id: &str, token: &str, record: &LinkRecord) -> Result<(), StorageError> {
    storage.set(&keys::access_token(account_id), token.as_bytes())?;
    storage.set(&keys::link_record(account_id), &serde_json::to_vec(record).expect("a record serializes"))?;
    // A new token starts a fresh link: the old break no longer applies.
    storage.delete(&keys::link_error(account_id))
}

type Grant = (String, Option<String>, String, Option<u64>);

fn facebook_grants(request: &LinkRequest<'_>, http: &impl Http) -> Result<Vec<Grant>, ConnectorError> {
    let base = format!("{FACEBOOK_GRAPH}/{API_VERSION}/oauth/access_token");
    let short = get_json(
        http,
        &format!(
            "{base}?client_id={}&redirect_uri={}&client_secret={}&code={}",
            enc(request.app_id),
            enc(request.redirect_uri),
            enc(request.app_secret),
            enc(request.code)
        ),
        None,
    )?;
    let short = text_field(&short, "access_token")?;
    let long = get_json(
        http,
        &format!(
            "{base}?grant_type=fb_exchange_token&client_id={}&client_secret={}&fb_exchange_token={}",
            enc(request.app_id),
            enc(request.app_secret),
            enc(&short)
        ),
        None,
    )?;
    let (user_token, expires_in) = (text_field(&long, "access_token")?, long.get("expires_in").and_then(Value::as_u64));
    let pages_url = format!(
        "{FACEBOOK_GRAPH}/{API_VERSION}/me/accounts?fields=id,access_token,instagram_business_account%7Bid,username%7D"
    );
    let pages = get_json(http, &pages_url, Some(&user_token))?;
    let grants = pages["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|page| {
            let ig = page.get("instagram_business_account")?;
            let id = ig.get("id")?.as_str()?.to_owned();
            let username = ig.get("username").and_then(Value::as_str).map(str::to_owned);
            Some((id, username, page.get("access_token")?.as_str()?.to_owned(), expires_in))
        })
        .collect::<Vec<_>>();
    if grants.is_empty() {
        return Err(failed(
            "no-instagram-account",
            "the authorization gave no Page with an Instagram professional account; select the Page and its Instagram account in the login dialog",
        ));
    }
    Ok(grants)
}

fn instagram_grants(request: &LinkRequest<'_>, http: &impl Http) -> Result<Vec<Grant>, ConnectorError> {
    let form = format!(
        "client_id={}&client_secret={}&grant_type=authorization_code&redirect_uri={}&code={}",
        enc(request.app_id),
        enc(request.app_secret),
        enc(request.redirect_uri),
        enc(request.code)
    );
    let headers = vec![("content-type".into(), "application/x-www-form-urlencoded".into())];
    let short = exchange(
        http,
        HttpRequest {
            method: Method::Post,
            url: INSTAGRAM_OAUTH.into(),
            headers,
            body: form.into_bytes(),
            timeout_ms: Some(TIMEOUT_MS),
        },
    )?;
    // Documented flat, sometimes seen wrapped in `data`.
    let short = short.get("data").and_then(|d| d.get(0)).cloned().unwrap_or(short);
    let short_token = text_field(&short, "access_token")?;
    let long = get_json(
        http,
        &format!(
            "{INSTAGRAM_GRAPH}/access_token?grant_type=ig_exchange_token&client_secret={}",
            enc(request.app_secret)
        ),
        Some(&short_token),
    )?;
    let token = text_field(&long, "access_token")?;
    let me = get_json(http, &format!("{INSTAGRAM_GRAPH}/{API_VERSION}/me?fields=user_id,username"), Some(&token))?;
    let id = me
        .get("user_id")
        .or_else(|| me.get("id"))
        .and_then(id_text)
        .ok_or_else(|| failed("unexpected-response", "Graph did not name the account"))?;
    let username = me.get("username").and_then(Value::as_str).map(str::to_owned);
    Ok(vec![(id, username, token, long.get("expires_in").and_then(Value::as_u64))])
}

/// Refreshes an Instagram Login token (at least 24 h old, not expired) and stores the new one and its expiry.
pub fn refresh(
    account_id: &str,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<TimestampMs, ConnectorError> {
    let record =
        link_record(storage, account_id)?.ok_or_else(|| failed("unknown-account", "this account is not linked"))?;
    if !record.instagram_login {
        return Err(failed(
            "refresh-unsupported",
            "Facebook Login links cannot be refreshed; re-authorize the account instead",
        ));
    }
    if now >= record.token_expires_at {
        return Err(failed("token-expired", "the token has expired; re-authorize the account"));
    }
    if now < record.token_expires_at.saturating_sub(LINK_LIFETIME_MS) + MIN_REFRESH_AGE_MS {
        return Err(failed("refresh-too-early", "Meta refreshes only tokens at least 24 hours old"));
    }
    let token = graph::access_token(storage, account_id)
        .map_err(ConnectorError::from)?
        .ok_or_else(|| failed("no-access-token", "the account has no token"))?;
    let fresh =
        get_json(http, &format!("{INSTAGRAM_GRAPH}/refresh_access_token?grant_type=ig_refresh_token"), Some(&token))?;
    let new_token = text_field(&fresh, "access_token")?;
    let expires_at =
        fresh.get("expires_in").and_then(Value::as_u64).map_or(now + LINK_LIFETIME_MS, |s| now + s * SECOND_MS);
    let record = LinkRecord { token_expires_at: expires_at, ..record };
    store_link(storage, account_id, &new_token, &record).map_err(ConnectorError::from)?;
    Ok(expires_at)
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
        accounts.push(AccountInfo { account_id: id, record, representative, last_error, last_error_at });
    }
    Ok(accounts)
}

fn get_json(http: &impl Http, url: &str, bearer: Option<&str>) -> Result<Value, ConnectorError> {
    let headers = bearer.map(|t| vec![("authorization".to_owned(), format!("Bearer {t}"))]).unwrap_or_default();
    exchange(
        http,
        HttpRequest {
            method: Method::Get,
            url: url.to_owned(),
            headers,
            body: Vec::new(),
            timeout_ms: Some(TIMEOUT_MS),
        },
    )
}

/// One Graph exchange; a Graph error comes back sorted, with its code kept in the message.
fn exchange(http: &impl Http, request: HttpRequest) -> Result<Value, ConnectorError> {
    let response =
        http.send(&request).map_err(|e| failed("graph-unreachable", format!("could not reach Meta: {e:?}")))?;
    if response.status == 200 {
        return serde_json::from_slice(&response.body)
            .map_err(|_| failed("unexpected-response", "Meta's answer was not JSON"));
    }
    match GraphError::parse(response.status, &response.body) {
        Some(error) => {
            let verdict = graph::classify(&error);
            Err(failed(
                verdict.code,
                format!(
                    "{} (Graph error {}{})",
                    verdict.explanation,
                    error.code,
                    error.subcode.map(|s| format!("/{s}")).unwrap_or_default()
                ),
            ))
        }
        None => Err(failed("graph-unavailable", format!("Meta answered HTTP {}", response.status))),
    }
}

fn text_field(value: &Value, field: &str) -> Result<String, ConnectorError> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| failed("unexpected-response", format!("Meta's answer has no {field}")))
}

fn id_text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned).or_else(|| value.as_u64().map(|n| n.to_string()))
}

/// Percent-encodes a query or form value (RFC 3986 unreserved characters pass).
fn enc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
