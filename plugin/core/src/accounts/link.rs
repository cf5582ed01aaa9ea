//! Linking by code exchange (Facebook Login or Instagram Login) and refreshing Instagram Login tokens, through the
//! `http` port.

use super::*;

/// Exchanges the code for a long-lived token and stores it for every account it gives. Re-linking an account keeps
/// all its data (settings, dedup, profiles); only the token and link record are replaced.
pub fn link_accounts(
    request: &LinkRequest,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Vec<LinkedAccount>, ConnectorError> {
    let authorization = match request.login {
        LoginKind::Facebook => facebook_grants(request, http)?,
        LoginKind::Instagram => instagram_grants(request, http)?,
    };
    let mut linked = Vec::new();
    for grant in authorization.grants {
        if !keys::is_valid_id(&grant.account_id) {
            return Err(failed("unexpected-response", "Graph named an account id that is not an Instagram id"));
        }
        let expires_at = grant.expires_in_s.map_or(request.now + LINK_LIFETIME_MS, |s| request.now + s * SECOND_MS);
        let relinked = storage.get(&keys::link_record(&grant.account_id)).map_err(ConnectorError::from)?.is_some();
        let record = LinkRecord {
            linked_at: request.now,
            token_expires_at: expires_at,
            username: grant.username.clone(),
            instagram_login: request.login == LoginKind::Instagram,
            page_id: grant.page_id,
            authorized_by: authorization.person.clone(),
        };
        store_link(storage, &grant.account_id, &grant.token, &record).map_err(ConnectorError::from)?;
        storage
            .set(&keys::login_kind(&grant.account_id), request.login.as_str().as_bytes())
            .map_err(ConnectorError::from)?;
        linked.push(LinkedAccount { account_id: grant.account_id, username: grant.username, expires_at, relinked });
    }
    Ok(linked)
}

fn store_link(storage: &impl Storage, account_id: &str, token: &str, record: &LinkRecord) -> Result<(), StorageError> {
    storage.set(&keys::access_token(account_id), token.as_bytes())?;
    storage.set(&keys::link_record(account_id), &serde_json::to_vec(record).expect("a record serializes"))?;
    // A new token starts a fresh link: the old break no longer applies.
    storage.delete(&keys::link_error(account_id))
}

/// What one login gave: its accounts, and the ids Meta knows the person who logged in by.
struct Authorization {
    grants: Vec<Grant>,
    person: Vec<String>,
}

/// One account a login reached, with its token.
struct Grant {
    account_id: String,
    username: Option<String>,
    token: String,
    expires_in_s: Option<u64>,
    /// The Facebook Page it is reached through (Facebook Login).
    page_id: Option<String>,
}

/// At most this many pages of `me/accounts` are read (100 Pages each).
const MAX_PAGE_LISTINGS: usize = 20;

/// Facebook Login: the code, then a long-lived user token, who logged in, and the Pages with their Instagram
/// accounts (each with its Page token).
fn facebook_grants(request: &LinkRequest, http: &impl Http) -> Result<Authorization, ConnectorError> {
    let base = format!("{FACEBOOK_GRAPH}/{API_VERSION}/oauth/access_token");
    let short = get_json(
        http,
        &format!(
            "{base}?client_id={}&redirect_uri={}&client_secret={}&code={}",
            percent_encode(&request.app_id),
            percent_encode(&request.redirect_uri),
            percent_encode(&request.app_secret),
            percent_encode(&request.code)
        ),
        None,
    )?;
    let short = text_field(&short, "access_token")?;
    let long = get_json(
        http,
        &format!(
            "{base}?grant_type=fb_exchange_token&client_id={}&client_secret={}&fb_exchange_token={}",
            percent_encode(&request.app_id),
            percent_encode(&request.app_secret),
            percent_encode(&short)
        ),
        None,
    )?;
    let (user_token, expires_in) = (text_field(&long, "access_token")?, long.get("expires_in").and_then(Value::as_u64));
    // Who logged in: Meta's deauthorize and data deletion callbacks name the person by this id. Not needed to link.
    let person = get_json(http, &format!("{FACEBOOK_GRAPH}/{API_VERSION}/me?fields=id"), Some(&user_token))
        .ok()
        .and_then(|me| me.get("id").and_then(id_text));
    let mut grants = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGE_LISTINGS {
        let cursor = after.as_deref().map(|a| format!("&after={}", percent_encode(a))).unwrap_or_default();
        let pages_url = format!(
            "{FACEBOOK_GRAPH}/{API_VERSION}/me/accounts?fields=id,access_token,instagram_business_account%7Bid,username%7D&limit=100{cursor}"
        );
        let listing = get_json(http, &pages_url, Some(&user_token))?;
        grants.extend(listing["data"].as_array().into_iter().flatten().filter_map(|page| {
            let ig = page.get("instagram_business_account")?;
            Some(Grant {
                account_id: ig.get("id")?.as_str()?.to_owned(),
                username: ig.get("username").and_then(Value::as_str).map(str::to_owned),
                token: page.get("access_token")?.as_str()?.to_owned(),
                expires_in_s: expires_in,
                page_id: page.get("id").and_then(id_text),
            })
        }));
        // Cursor paging: another page only while Meta names a next one.
        after = listing["paging"]["cursors"]["after"]
            .as_str()
            .filter(|_| listing["paging"]["next"].is_string())
            .map(str::to_owned);
        if after.is_none() {
            break;
        }
    }
    if grants.is_empty() {
        return Err(failed(
            "no-instagram-account",
            "the authorization gave no Page with an Instagram professional account; select the Page and its Instagram account in the login dialog",
        ));
    }
    Ok(Authorization { grants, person: person.into_iter().collect() })
}

/// Instagram Login: the code, then a long-lived token, and the account itself (`/me`).
fn instagram_grants(request: &LinkRequest, http: &impl Http) -> Result<Authorization, ConnectorError> {
    let form = format!(
        "client_id={}&client_secret={}&grant_type=authorization_code&redirect_uri={}&code={}",
        percent_encode(&request.app_id),
        percent_encode(&request.app_secret),
        percent_encode(&request.redirect_uri),
        percent_encode(&request.code)
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
            percent_encode(&request.app_secret)
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
    // The exchange's user id and the app-scoped `id` differ from the account id (observed): Meta's callbacks may
    // name the person by either.
    let mut person: Vec<String> =
        [short.get("user_id"), me.get("id")].into_iter().flatten().filter_map(id_text).collect();
    person.dedup();
    let grant = Grant {
        account_id: id,
        username,
        token,
        expires_in_s: long.get("expires_in").and_then(Value::as_u64),
        page_id: None,
    };
    Ok(Authorization { grants: vec![grant], person })
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

/// A Graph GET, with the token (if any) in the Authorization header.
pub(super) fn get_json(http: &impl Http, url: &str, bearer: Option<&str>) -> Result<Value, ConnectorError> {
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
pub(super) fn exchange(http: &impl Http, request: HttpRequest) -> Result<Value, ConnectorError> {
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
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
