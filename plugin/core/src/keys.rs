//! The storage key scheme, in one place: inbound dedup and outbound own-send records must agree on it.

use crate::hex;

/// Set when a message id has been delivered (or sent by this connector). Ids are opaque and long: hashed, so
/// that every key has the same short length.
pub fn seen_message(message_id: &str) -> String {
    format!("seen/mid/{}", hex::sha256(message_id))
}

/// The cached Graph profile of one customer of one account.
pub fn profile(account_id: &str, customer_id: &str) -> String {
    format!("profile/{account_id}/{customer_id}")
}

/// The account's inbound filters.
pub fn filters(account_id: &str) -> String {
    format!("settings/{account_id}/filters")
}

/// The account's Graph token, provisioned by the host or stored by linking.
pub fn access_token(account_id: &str) -> String {
    format!("account/{account_id}/access-token")
}

/// Which login flow linked the account (`facebook` or `instagram`): it decides the Graph host.
pub fn login_kind(account_id: &str) -> String {
    format!("account/{account_id}/login")
}

/// A token for every account of the channel that has none of its own, provisioned by the host.
pub const CHANNEL_ACCESS_TOKEN: &str = "channel/access-token";

/// Whether `id` is shaped like a Meta id (account id or IGSID), so it is safe inside a key.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The value of `seen_message` when the message came in by webhook.
pub const SEEN_INBOUND: &[u8] = b"in";
/// The value of `seen_message` when this connector sent the message: its echo is then `own-send-echo`.
pub const SEEN_SENT: &[u8] = b"sent";

/// Set when an event without a message id of its own (reaction, read, edit, unsend, postback, referral) has been
/// delivered: its identity is the hash of its parts, so a redelivery finds it.
pub fn seen_event(parts: &[&str]) -> String {
    format!("seen/event/{}", hex::sha256(&parts.join("\u{1f}")))
}

/// A comment the connector delivered: its time and author (JSON), what a reply to it is checked against. Under
/// `seen/`, so it is pruned with the dedup marks (14 days), well after the 7 days a private reply may take.
pub fn comment(account_id: &str, comment_id: &str) -> String {
    format!("seen/comment/{account_id}/{comment_id}")
}

/// Set when a private reply to the comment was sent (or Meta said one was): one per comment.
pub fn comment_reply(account_id: &str, comment_id: &str) -> String {
    format!("seen/comment-reply/{account_id}/{comment_id}")
}

/// An account's history backfill: its cursor and progress (JSON).
pub fn backfill(account_id: &str) -> String {
    format!("account/{account_id}/backfill")
}

/// The last Graph error that broke the account's link (token, password, permission): expiry reads it.
pub fn link_error(account_id: &str) -> String {
    format!("account/{account_id}/link-error")
}

/// The account's send budget (a token bucket) for one class of message.
pub fn send_budget(account_id: &str, class: &str) -> String {
    format!("budget/{account_id}/{class}")
}

/// An account's link record (when linked, token expiry, username, login kind); never the token.
pub fn link_record(account_id: &str) -> String {
    format!("account/{account_id}/link")
}

/// The channel's linked accounts, in selection order (a JSON list).
pub const CHANNEL_ACCOUNTS: &str = "channel/accounts";
/// The channel's representative account, when one is marked.
pub const CHANNEL_REPRESENTATIVE: &str = "channel/representative";

/// The outcome of the account's last webhook subscription (`subscribed_apps`): the fields, or Meta's refusal.
pub fn subscription(account_id: &str) -> String {
    format!("account/{account_id}/subscription")
}

/// What the connector keeps of one account, by key prefix: its link, token and subscription, its settings, its
/// customers' cached profiles and its send budgets. Forgetting the account deletes all of them.
pub fn account_prefixes(account_id: &str) -> [String; 4] {
    [
        format!("account/{account_id}/"),
        format!("settings/{account_id}/"),
        format!("profile/{account_id}/"),
        format!("budget/{account_id}/"),
    ]
}
