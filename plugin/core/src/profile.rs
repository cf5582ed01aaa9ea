//! Customer profiles from the Graph User Profile API, cached in storage. A failure never blocks a message: the
//! customer is then shown with what is known and marked `profile-pending`.

use crate::events::CustomerProfile;
use crate::graph;
use crate::keys;
use crate::ports::{Http, HttpRequest, Method, Storage, StorageError};
use crate::time::{DAY_MS, SECOND_MS, TimestampMs};
use serde::{Deserialize, Serialize};

/// Refetch at least this often, even when the picture link has not expired.
pub const CACHE_TTL_MS: u64 = 3 * DAY_MS;
/// A delivery must be answered within a few seconds: the profile may take only part of that.
pub const FETCH_TIMEOUT_MS: u32 = 2_000;

/// A profile as cached in storage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cached {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile_pic: Option<String>,
    #[serde(default)]
    fetched_at: TimestampMs,
}

impl Cached {
    fn is_fresh(&self, now: TimestampMs) -> bool {
        let picture_alive = self.profile_pic.as_deref().and_then(picture_expiry).is_none_or(|expiry| now < expiry);
        now < self.fetched_at.saturating_add(CACHE_TTL_MS) && picture_alive
    }

    fn to_profile(&self, pending: bool) -> CustomerProfile {
        CustomerProfile {
            anonymous: self.name.is_none() && self.username.is_none(),
            username: self.username.clone(),
            name: self.name.clone(),
            profile_pic: self.profile_pic.clone(),
            profile_pending: pending,
        }
    }
}

/// The profile of `customer_id` as seen by `account_id` at `now`: from the cache while fresh, else fetched and
/// cached. Only a storage failure is an error; Graph's failures make the profile pending.
pub fn lookup(
    storage: &impl Storage,
    http: &impl Http,
    account_id: &str,
    customer_id: &str,
    now: TimestampMs,
) -> Result<CustomerProfile, StorageError> {
    let key = keys::profile(account_id, customer_id);
    let cached: Option<Cached> = storage.get(&key)?.and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if let Some(cached) = cached.as_ref().filter(|c| c.is_fresh(now)) {
        return Ok(cached.to_profile(false));
    }
    match fetch(storage, http, account_id, customer_id, now)? {
        Some(mut fresh) => {
            fresh.fetched_at = now;
            let bytes = serde_json::to_vec(&fresh).expect("a profile always serializes");
            storage.set(&key, &bytes)?;
            Ok(fresh.to_profile(false))
        }
        None => Ok(cached.unwrap_or_default().to_profile(true)),
    }
}

/// What the cache holds of a customer, fresh or not, without asking Graph; None when nothing is cached.
pub fn cached(
    storage: &impl Storage,
    account_id: &str,
    customer_id: &str,
) -> Result<Option<CustomerProfile>, StorageError> {
    let stored = storage.get(&keys::profile(account_id, customer_id))?;
    Ok(stored.and_then(|bytes| serde_json::from_slice::<Cached>(&bytes).ok()).map(|c| c.to_profile(false)))
}

/// Asks Graph; None when there is no token or Graph did not give a profile. A Graph error that breaks the link
/// (a token or permission error) is recorded as a send's is, so the break is seen before the next send.
fn fetch(
    storage: &impl Storage,
    http: &impl Http,
    account_id: &str,
    customer_id: &str,
    now: TimestampMs,
) -> Result<Option<Cached>, StorageError> {
    let Some(token) = graph::access_token(storage, account_id)? else { return Ok(None) };
    let request = HttpRequest {
        method: Method::Get,
        url: format!("{}/{customer_id}?fields=name,username,profile_pic", graph::base_url(storage, account_id)?),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        body: Vec::new(),
        timeout_ms: Some(FETCH_TIMEOUT_MS),
    };
    let Ok(response) = http.send(&request) else { return Ok(None) };
    if response.status != 200 {
        if let Some(error) = graph::GraphError::parse(response.status, &response.body) {
            graph::record_break(storage, account_id, &error, now);
        }
        return Ok(None);
    }
    let Ok(mut profile) = serde_json::from_slice::<Cached>(&response.body) else { return Ok(None) };
    for field in [&mut profile.name, &mut profile.username, &mut profile.profile_pic] {
        if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *field = None;
        }
    }
    Ok(Some(profile))
}

/// When a signed CDN picture link dies: its `oe` query parameter, Unix seconds in hex (observed, not documented).
fn picture_expiry(url: &str) -> Option<TimestampMs> {
    let query = url.split_once('?')?.1;
    let hex = query.split('&').find_map(|pair| pair.strip_prefix("oe="))?;
    u64::from_str_radix(hex, 16).ok()?.checked_mul(SECOND_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{HttpError, HttpResponse, MemoryStorage};
    use std::cell::Cell;

    struct FakeGraph {
        status: u16,
        body: &'static str,
        calls: Cell<u32>,
    }

    impl Http for FakeGraph {
        fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
            self.calls.set(self.calls.get() + 1);
            assert_eq!(request.url, "https://graph.facebook.com/v23.0/42?fields=name,username,profile_pic");
            assert_eq!(request.headers, vec![("authorization".to_string(), "Bearer tok".to_string())]);
            Ok(HttpResponse { status: self.status, headers: vec![], body: self.body.as_bytes().to_vec() })
        }
    }

    fn store_with_token() -> MemoryStorage {
        let storage = MemoryStorage::default();
        storage.set(keys::CHANNEL_ACCESS_TOKEN, b"tok").unwrap();
        storage
    }

    #[test]
    fn fetches_once_then_serves_from_cache_until_stale() {
        let storage = store_with_token();
        let graph =
            FakeGraph { status: 200, body: r#"{"name":"Kim","username":"kim","id":"42"}"#, calls: Cell::new(0) };
        let first = lookup(&storage, &graph, "1", "42", 1_000).unwrap();
        assert_eq!((first.name.as_deref(), first.anonymous, first.profile_pending), (Some("Kim"), false, false));
        assert_eq!(lookup(&storage, &graph, "1", "42", 2_000).unwrap(), first);
        assert_eq!(graph.calls.get(), 1);
        lookup(&storage, &graph, "1", "42", 1_000 + CACHE_TTL_MS).unwrap();
        assert_eq!(graph.calls.get(), 2);
    }

    #[test]
    fn graph_failure_or_no_token_gives_pending_anonymous() {
        let storage = store_with_token();
        let graph = FakeGraph { status: 500, body: "", calls: Cell::new(0) };
        let profile = lookup(&storage, &graph, "1", "42", 1_000).unwrap();
        assert!(profile.anonymous && profile.profile_pending);
        assert!(storage.get(&keys::profile("1", "42")).unwrap().is_none(), "a failure is not cached");
        let no_token = lookup(&MemoryStorage::default(), &graph, "1", "42", 1_000).unwrap();
        assert!(no_token.anonymous && no_token.profile_pending);
        assert_eq!(graph.calls.get(), 1, "no token, no request");
    }

    #[test]
    fn a_token_error_during_a_lookup_marks_the_link_broken_but_a_consent_error_does_not() {
        let storage = store_with_token();
        let consent = FakeGraph { status: 400, body: r#"{"error":{"code":230}}"#, calls: Cell::new(0) };
        assert!(lookup(&storage, &consent, "1", "42", 1_000).unwrap().profile_pending);
        assert!(storage.get(&keys::link_error("1")).unwrap().is_none(), "230 is the customer's, not the link's");
        let revoked =
            FakeGraph { status: 400, body: r#"{"error":{"code":190,"error_subcode":460}}"#, calls: Cell::new(0) };
        assert!(lookup(&storage, &revoked, "1", "42", 2_000).unwrap().profile_pending);
        let recorded = storage.get(&keys::link_error("1")).unwrap().expect("the break is recorded");
        assert_eq!(String::from_utf8(recorded).unwrap(), r#"{"at":2000,"code":190,"subcode":460}"#);
    }

    #[test]
    fn profile_without_names_is_anonymous_but_not_pending() {
        let graph = FakeGraph { status: 200, body: r#"{"id":"42"}"#, calls: Cell::new(0) };
        let profile = lookup(&store_with_token(), &graph, "1", "42", 1_000).unwrap();
        assert!(profile.anonymous && !profile.profile_pending);
    }

    #[test]
    fn expired_picture_link_makes_the_cache_stale() {
        let url = "https://scontent.cdninstagram.com/x.jpg?stp=dst&oe=6AFAC95B&oh=1";
        assert_eq!(picture_expiry(url), Some(0x6AFA_C95B * 1000));
        let cached = Cached { profile_pic: Some(url.into()), fetched_at: 0x6AFA_C95B * 1000 - 10, ..Cached::default() };
        assert!(cached.is_fresh(0x6AFA_C95B * 1000 - 1));
        assert!(!cached.is_fresh(0x6AFA_C95B * 1000));
    }
}
