//! Meta's app-review callbacks and the console's front page: deauthorize and data deletion verify Meta's
//! `signed_request` first (a forged one changes nothing), break or forget the person's accounts (with what the host
//! kept of them), and the deletion's status URL answers; the front page warns about an account with no webhook for
//! a day, in Korean or English; the switches need the form's CSRF token.

use messenger_harness::{ConsoleConfig, Database, ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::console::Person;
use messenger_test_support::meta::{FACEBOOK_PERSON, provision_links, signed_request};
use messenger_test_support::*;
use serde_json::Value;

/// A is linked by the Facebook person, B by someone else.
const A: &str = "17841400000000001";
const B: &str = "17841400000000002";
/// How Meta posts its callbacks.
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// A server whose channel links A (authorized by the Facebook person, a day and a half ago) and B (someone else).
fn start(dir: &tempfile::TempDir, graph: &FakeGraph, language: Option<&str>) -> ServerHandle {
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    provision_links(&database, &[(A, 2, 40, FACEBOOK_PERSON), (B, 2, 40, "5559999")], &[A, B]);
    let console = ConsoleConfig { public_url: Some("https://connector.example".into()), ..Default::default() };
    let config = ServeConfig {
        console,
        owners: vec!["owner-1".into()],
        language: language.map(str::to_owned),
        ..quick_serve_config()
    };
    spawn(harness(database, graph), config).unwrap()
}

/// `GET /api/accounts`'s accounts.
fn accounts(server: &ServerHandle) -> Vec<Value> {
    let (status, listed) = api_call(server.addr, "GET", "/api/accounts", &[AUTH], b"");
    assert_eq!(status, 200, "{listed}");
    listed["accounts"].as_array().unwrap().clone()
}

/// Every event of the feed.
fn events(server: &ServerHandle) -> Vec<Value> {
    read_feed(server.addr, "", "", 1000).0
}

/// Posts a `signed_request` to one of Meta's callbacks.
fn callback(server: &ServerHandle, path: &str, signed: &str) -> (u16, String) {
    post(server, path, &[FORM], format!("signed_request={signed}").as_bytes())
}

#[test]
fn deauthorize_breaks_the_persons_links_and_tells_the_owners_once_verified() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, None);
    let forged = signed_request(FACEBOOK_PERSON).replacen('.', "x.", 1);
    assert_eq!(callback(&server, "/meta/deauthorize", &forged).0, 401);
    assert_eq!(post(&server, "/meta/deauthorize", &[FORM], b"nothing=here").0, 400);
    assert!(accounts(&server).iter().all(|a| a["state"] == "active"), "a forged callback changes nothing");

    let (status, answer) = callback(&server, "/meta/deauthorize", &signed_request(FACEBOOK_PERSON));
    assert_eq!((status, answer.as_str()), (200, r#"{"deauthorized":1}"#));
    let listed = accounts(&server);
    assert_eq!((listed[0]["state"].as_str(), listed[0]["reason"].as_str()), (Some("broken"), Some("revoked")));
    assert_eq!(listed[1]["state"], "active", "another person's account is left alone");
    let notices: Vec<Value> = events(&server).into_iter().filter(|e| e["kind"] == "owner-notice").collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!((notices[0]["account-id"].as_str(), &notices[0]["notify"]), (Some(A), &serde_json::json!(["owner-1"])));
}

#[test]
fn data_deletion_forgets_the_persons_accounts_and_answers_a_status_url() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, None);
    for (account, mid) in [(A, "m-a"), (B, "m-b")] {
        let (body, signature) = signed_item(account, "1098765432100001", messenger_harness::now_ms(), "message", mid);
        assert_eq!(post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body).0, 200);
    }
    let mut person = Person::new(server.addr);
    assert_eq!(person.sign_in(API_KEY).status, 303);
    let csrf = person.get("/").field("csrf");
    let switched =
        person.post(&format!("/accounts/{A}/filters"), &[("csrf", &csrf), ("filter", "skip-shares"), ("on", "true")]);
    assert_eq!(switched.status, 303);
    let rows_before = stored_rows(&dir.path().join("c.db"));
    assert!(rows_before.iter().any(|(_, key)| key.contains(A)));

    assert_eq!(callback(&server, "/meta/data-deletion", "bm90LXNpZ25lZA.e30").0, 401);
    assert_eq!(stored_rows(&dir.path().join("c.db")), rows_before, "a forged request deletes nothing");

    let (status, answer) = callback(&server, "/meta/data-deletion", &signed_request(FACEBOOK_PERSON));
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    let code = answer["confirmation_code"].as_str().unwrap();
    assert_eq!(answer["url"], format!("https://connector.example/meta/data-deletion/{code}"));
    let listed = accounts(&server);
    assert_eq!((listed.len(), listed[0]["account-id"].as_str()), (1, Some(B)), "A is forgotten, B kept");
    let left: Vec<String> = stored_rows(&dir.path().join("c.db")).into_iter().map(|(_, key)| key).collect();
    assert!(!left.iter().any(|key| key.contains(A)), "no key of A is left: {left:?}");
    let feed = events(&server);
    assert!(!feed.is_empty() && feed.iter().all(|e| e["account-id"] == B), "A's events are gone: {feed:?}");

    let status_page = person.get(&format!("/meta/data-deletion/{code}"));
    assert_eq!(status_page.status, 200);
    assert!(status_page.body.contains(code) && status_page.body.contains("carried out"), "{}", status_page.body);
    assert_eq!(person.get("/meta/data-deletion/0000000000000-00000000000000000000000000000000").status, 404);
}

#[test]
fn the_front_page_warns_of_a_quiet_account_in_korean_or_english_and_its_switches_need_the_token() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, Some("ko"));
    let mut person = Person::new(server.addr);
    assert_eq!(person.sign_in(API_KEY).status, 303);
    let korean = person.get("/");
    assert!(
        korean.body.contains("<html lang=\"ko\">") && korean.body.contains("메시지 액세스 허용"),
        "{}",
        korean.body
    );
    person.language = Some("en-US,en;q=0.9");
    let english = person.get("/");
    assert!(english.body.contains("<html lang=\"en\">"));
    let warning = format!("id=\"quiet-{A}\"");
    assert!(english.body.contains(&warning), "no webhook for two days: warned");
    assert!(english.body.contains("Allow access to messages") && english.body.contains("Connected tools"));

    // A webhook arrives for A: its warning goes, B's stays.
    let (body, signature) = signed_item(A, "1098765432100001", messenger_harness::now_ms(), "message", "m-1");
    assert_eq!(post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body).0, 200);
    let page = person.get("/");
    assert!(!page.body.contains(&warning) && page.body.contains(&format!("id=\"quiet-{B}\"")));

    // The switches: without the form's token nothing changes.
    let refused = person.post(&format!("/accounts/{A}/representative"), &[("on", "true")]);
    assert_eq!(refused.status, 403);
    assert_eq!(accounts(&server)[0]["representative"], false);
    let csrf = page.field("csrf");
    let marked = person.post(&format!("/accounts/{A}/representative"), &[("csrf", &csrf), ("on", "true")]);
    assert_eq!((marked.status, marked.location()), (303, "/"));
    assert_eq!(accounts(&server)[0]["representative"], true);
    // Another session's token is not this one's.
    let mut other = Person::new(server.addr);
    other.sign_in(API_KEY);
    assert_eq!(other.post(&format!("/accounts/{A}/representative"), &[("csrf", &csrf), ("on", "false")]).status, 403);
    assert_eq!(accounts(&server)[0]["representative"], true);
}
