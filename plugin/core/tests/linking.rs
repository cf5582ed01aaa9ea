//! Natively, without a host: subscribing a linked account to the webhook fields (the right edge per login, the
//! outcome stored, Meta's refusal kept), Meta's deauthorize (the person's links broken) and data deletion (their
//! accounts forgotten, nobody else's), and the `signed_request` those callbacks carry.

use messenger_core::accounts::{self, LinkRecord};
use messenger_core::expiry::Reason;
use messenger_core::keys;
use messenger_core::ports::{Http, HttpError, HttpRequest, HttpResponse, MemoryStorage, Storage, all_keys};
use messenger_core::signed_request;
use serde_json::json;
use std::cell::RefCell;

const A: &str = "17841400000000001";
const B: &str = "17841400000000002";
const NOW: u64 = 1_794_477_600_000;

/// Answers every request with one status and body, and keeps the requests.
struct Graph {
    status: u16,
    body: &'static str,
    seen: RefCell<Vec<HttpRequest>>,
}

impl Http for Graph {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        self.seen.borrow_mut().push(request.clone());
        Ok(HttpResponse { status: self.status, headers: Vec::new(), body: self.body.as_bytes().to_vec() })
    }
}

fn graph(status: u16, body: &'static str) -> Graph {
    Graph { status, body, seen: RefCell::new(Vec::new()) }
}

/// A channel with A (Facebook Login, Page 1001, authorized by person 7) and B (Instagram Login, person 8), both
/// selected, A the representative, each with a filter, a cached profile and a send budget.
fn channel() -> MemoryStorage {
    let storage = MemoryStorage::default();
    for (id, instagram, page, person) in [(A, false, Some("1001"), "7"), (B, true, None, "8")] {
        let record = LinkRecord {
            linked_at: NOW,
            token_expires_at: NOW + 1,
            username: None,
            instagram_login: instagram,
            page_id: page.map(str::to_owned),
            authorized_by: vec![person.to_owned()],
        };
        storage.set(&keys::link_record(id), &serde_json::to_vec(&record).unwrap()).unwrap();
        storage.set(&keys::access_token(id), format!("token-{id}").as_bytes()).unwrap();
        storage.set(&keys::filters(id), b"{}").unwrap();
        storage.set(&keys::profile(id, "1098765432100001"), b"{}").unwrap();
        storage.set(&keys::send_budget(id, "text"), b"{}").unwrap();
    }
    storage.set(keys::CHANNEL_ACCOUNTS, json!([A, B]).to_string().as_bytes()).unwrap();
    storage.set(keys::CHANNEL_REPRESENTATIVE, A.as_bytes()).unwrap();
    storage
}

#[test]
fn each_login_is_subscribed_on_its_own_edge_and_the_outcome_is_kept() {
    let storage = channel();
    let meta = graph(200, r#"{"success":true}"#);
    let facebook = accounts::subscribe(A, NOW, &storage, &meta).unwrap();
    let instagram = accounts::subscribe(B, NOW, &storage, &meta).unwrap();
    let urls: Vec<String> = meta.seen.borrow().iter().map(|r| r.url.clone()).collect();
    assert!(urls[0].starts_with("https://graph.facebook.com/v23.0/1001/subscribed_apps?subscribed_fields=messages,"));
    assert!(urls[1].starts_with("https://graph.instagram.com/v23.0/me/subscribed_apps?subscribed_fields=messages,"));
    assert!(urls.iter().all(|u| !u.contains("token-")), "the token goes in a header, never the URL");
    assert_eq!(meta.seen.borrow()[0].headers[0].1, format!("Bearer token-{A}"));
    assert!(facebook.is_subscribed() && instagram.fields.contains(&"message_edit".to_owned()));
    assert_eq!(accounts::subscriptions(&storage).unwrap(), [facebook, instagram], "stored, in selection order");
}

#[test]
fn a_refused_subscription_is_kept_with_its_reason_and_an_unlinked_account_is_an_error() {
    let storage = channel();
    let refusal = r#"{"error":{"message":"(#200) Requires pages_manage_metadata","type":"OAuthException","code":200}}"#;
    let refused = accounts::subscribe(A, NOW, &storage, &graph(400, refusal)).unwrap();
    assert_eq!((refused.is_subscribed(), refused.error.as_ref().unwrap().code.as_str()), (false, "permission-missing"));
    assert_eq!(accounts::subscriptions(&storage).unwrap(), [refused]);
    let unknown = accounts::subscribe("17841400000000009", NOW, &storage, &graph(200, "{}")).unwrap_err();
    assert_eq!(unknown.code, "unknown-account");
    assert_eq!(accounts::subscribe("../x", NOW, &storage, &graph(200, "{}")).unwrap_err().code, "invalid-account-id");
}

#[test]
fn deauthorize_breaks_only_the_persons_links_as_revoked() {
    let storage = channel();
    assert_eq!(accounts::deauthorize("7", NOW, &storage).unwrap(), [A]);
    let listed = accounts::list(&storage).unwrap();
    let error = listed[0].last_error.as_ref().unwrap();
    assert_eq!((error.code, error.subcode, listed[0].last_error_at), (190, Some(458), Some(NOW)));
    assert_eq!(Reason::of_error(error), Some(Reason::Revoked));
    assert!(listed[1].last_error.is_none(), "another person's link is left alone");
    assert_eq!(accounts::deauthorize("nobody", NOW, &storage).unwrap(), Vec::<String>::new());
    assert_eq!(accounts::deauthorize(B, NOW, &storage).unwrap(), [B], "an account's own id names it too");
}

#[test]
fn forgetting_a_person_deletes_their_accounts_whole_and_nothing_else() {
    let storage = channel();
    assert_eq!(accounts::forget("7", &storage).unwrap(), [A]);
    for prefix in keys::account_prefixes(A) {
        assert_eq!(all_keys(&storage, &prefix).unwrap(), Vec::<String>::new(), "{prefix}");
    }
    let listed = accounts::list(&storage).unwrap();
    assert_eq!((listed.len(), listed[0].account_id.as_str()), (1, B));
    assert_eq!(storage.get(keys::CHANNEL_REPRESENTATIVE).unwrap(), None, "the mark went with A");
    assert_eq!(all_keys(&storage, &format!("profile/{B}/")).unwrap().len(), 1, "B's data stays");
    assert_eq!(accounts::forget("7", &storage).unwrap(), Vec::<String>::new(), "a second request finds nothing");
}

#[test]
fn keys_are_listed_page_by_page_in_byte_order() {
    let storage = MemoryStorage::default();
    for i in 0..2500 {
        storage.set(&format!("p/{i:05}"), b"").unwrap();
    }
    storage.set("q/1", b"").unwrap();
    let (first, cursor) = storage.list_keys("p/", None, 1000).unwrap();
    assert_eq!((first.len(), first[0].as_str(), cursor.as_deref()), (1000, "p/00000", Some("p/00999")));
    let all = all_keys(&storage, "p/").unwrap();
    assert_eq!((all.len(), all.last().map(String::as_str)), (2500, Some("p/02499")));
}

#[test]
fn a_signed_request_is_read_only_when_the_app_secret_signed_it() {
    let payload = json!({"algorithm": "HMAC-SHA256", "issued_at": 1_794_477_600u64, "user_id": "5550001"});
    let signed = signed_request::sign(b"app-secret", &payload);
    let read = signed_request::verify(b"app-secret", &signed).unwrap();
    assert_eq!((read.user_id.as_str(), read.issued_at), ("5550001", Some(1_794_477_600)));
    assert_eq!(signed_request::verify(b"another-secret", &signed).unwrap_err().code, "bad-signature");
    let (signature, body) = signed.split_once('.').unwrap();
    let padded = format!("{signature}=.{body}");
    assert!(signed_request::verify(b"app-secret", &padded).is_ok(), "padding is tolerated");
    let bare_number =
        signed_request::sign(b"k", &json!({"algorithm": "HMAC-SHA256", "user_id": 17_841_400_000_000_001u64}));
    assert_eq!(signed_request::verify(b"k", &bare_number).unwrap().user_id, "17841400000000001");
    for malformed in [
        signed_request::sign(b"k", &json!({"algorithm": "RS256", "user_id": "1"})),
        signed_request::sign(b"k", &json!({"algorithm": "HMAC-SHA256"})),
        signed_request::sign(b"k", &json!({"algorithm": "HMAC-SHA256", "user_id": "../1"})),
        "no-dot".to_owned(),
        "x".repeat(signed_request::MAX_LEN + 1),
    ] {
        assert_eq!(signed_request::verify(b"k", &malformed).unwrap_err().code, "malformed-payload", "{malformed:.40}");
    }
}
