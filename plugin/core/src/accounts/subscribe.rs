//! Subscribing a linked account to the webhook fields the connector handles (`subscribed_apps`), and keeping the
//! outcome, so that a refusal is shown on the account instead of passing silently.

use super::*;
use crate::ports::all_keys;

/// The fields an Instagram Login account is subscribed to: every kind of item the connector turns into events.
/// Fields cannot be chosen per account (an account subscribed to any gets all the app subscribed to), but the call
/// needs at least one, and naming them all documents what the connector expects the app to have.
pub const INSTAGRAM_FIELDS: &[&str] = &[
    "messages",
    "message_echoes",
    "messaging_postbacks",
    "messaging_seen",
    "message_reactions",
    "messaging_referral",
    "message_edit",
];

/// The fields a Facebook Page is subscribed to. The edge takes only Page fields (Messenger's names; Instagram
/// fields are set on the app, in the dashboard), and only fields subscribed at both levels are delivered.
pub const PAGE_FIELDS: &[&str] =
    &["messages", "messaging_postbacks", "message_reactions", "message_reads", "messaging_referrals"];

/// The outcome of an account's webhook subscription, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Subscription {
    /// The Instagram professional account id.
    pub account_id: String,
    /// When the subscription was asked for.
    pub at: TimestampMs,
    /// The fields Meta accepted; empty when it refused.
    pub fields: Vec<String>,
    /// Why Meta refused (a sorted Graph error, as a send's), when it did.
    pub error: Option<ConnectorError>,
}

impl Subscription {
    /// Whether Meta accepted it.
    pub fn is_subscribed(&self) -> bool {
        self.error.is_none()
    }
}

/// Subscribes a linked account to the webhook fields, with its stored token, and stores the outcome. Meta's refusal
/// is an outcome (stored, returned), not an error: errors are for an account that is not linked or has no token.
pub fn subscribe(
    account_id: &str,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Subscription, ConnectorError> {
    if !keys::is_valid_id(account_id) {
        return Err(failed(crate::codes::INVALID_ACCOUNT_ID, format!("{account_id:?} is not an Instagram account id")));
    }
    let record =
        link_record(storage, account_id)?.ok_or_else(|| failed("unknown-account", "this account is not linked"))?;
    let token = storage
        .get(&keys::access_token(account_id))
        .map_err(ConnectorError::from)?
        .and_then(|t| String::from_utf8(t).ok())
        .ok_or_else(|| failed("no-access-token", "the account has no token of its own; re-authorize it"))?;
    let (host, subject, fields) = if record.instagram_login {
        (INSTAGRAM_GRAPH, "me".to_owned(), INSTAGRAM_FIELDS)
    } else {
        // The Page token's own Page: `me` is that Page when its id was not kept.
        (FACEBOOK_GRAPH, record.page_id.clone().unwrap_or_else(|| "me".to_owned()), PAGE_FIELDS)
    };
    let url = format!("{host}/{API_VERSION}/{subject}/subscribed_apps?subscribed_fields={}", fields.join(","));
    let request = HttpRequest {
        method: Method::Post,
        url,
        headers: vec![("authorization".to_owned(), format!("Bearer {token}"))],
        body: Vec::new(),
        timeout_ms: Some(TIMEOUT_MS),
    };
    let outcome = match link::exchange(http, request) {
        Ok(answer) if answer["success"].as_bool() == Some(true) => Ok(fields.iter().map(|f| (*f).to_owned()).collect()),
        Ok(_) => Err(failed("unexpected-response", "Meta did not confirm the subscription")),
        Err(refusal) => Err(refusal),
    };
    let subscription = match outcome {
        Ok(fields) => Subscription { account_id: account_id.to_owned(), at: now, fields, error: None },
        Err(error) => {
            Subscription { account_id: account_id.to_owned(), at: now, fields: Vec::new(), error: Some(error) }
        }
    };
    let stored = serde_json::to_vec(&subscription).expect("a subscription serializes");
    storage.set(&keys::subscription(account_id), &stored).map_err(ConnectorError::from)?;
    Ok(subscription)
}

/// The stored subscription outcomes of the channel's accounts, in selection order (accounts never subscribed
/// through the connector have none).
pub fn subscriptions(storage: &impl Storage) -> Result<Vec<Subscription>, ConnectorError> {
    let mut found = Vec::new();
    for id in channel_accounts(storage)? {
        let stored = storage.get(&keys::subscription(&id)).map_err(ConnectorError::from)?;
        found.extend(stored.and_then(|bytes| serde_json::from_slice::<Subscription>(&bytes).ok()));
    }
    Ok(found)
}

/// The ids of every account with a link record in this channel's storage, selected or not.
pub(super) fn linked_ids(storage: &impl Storage) -> Result<Vec<String>, ConnectorError> {
    let keys = all_keys(storage, "account/").map_err(ConnectorError::from)?;
    Ok(keys
        .iter()
        .filter_map(|key| key.strip_prefix("account/")?.strip_suffix("/link"))
        .filter(|id| !id.contains('/'))
        .map(str::to_owned)
        .collect())
}
