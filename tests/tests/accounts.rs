//! Linking, refreshing, re-authorizing and selecting accounts through the real component, against a fake Graph
//! that speaks both login flows.

use messenger_core::accounts::LinkRequest;
use messenger_core::events::{EventKind, SkipReason};
use messenger_core::expiry::LoginKind;
use messenger_core::settings::Filters;
use messenger_harness::CallError;
use messenger_harness::Database;
use messenger_test_support::*;
use serde_json::{Value, json};

const A: &str = "17841400000000001";
const B: &str = "17841400000000002";
const NOW: u64 = 1_794_477_600_000;
const DAY: u64 = 86_400_000;

/// Meta's side of both flows. The Facebook flow grants account A (via a Page), the Instagram flow account B.
fn meta(refresh_ok: bool) -> impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static {
    move |seen: &Seen| {
        let bearer = seen.authorization.as_deref().unwrap_or("");
        let ok = |v: Value| (200, v.to_string());
        match (seen.method.as_str(), seen.url.split('?').next().unwrap_or("")) {
            ("GET", "/v23.0/oauth/access_token") if seen.url.contains("grant_type=fb_exchange_token") => {
                ok(json!({"access_token": "fb-user-long", "token_type": "bearer", "expires_in": 5_183_944}))
            }
            ("GET", "/v23.0/oauth/access_token") if seen.url.contains("code=") => {
                ok(json!({"access_token": "fb-user-short"}))
            }
            ("GET", "/v23.0/me") if bearer == "Bearer fb-user-long" => ok(json!({"id": "5550001"})),
            ("GET", "/v23.0/me/accounts") if bearer == "Bearer fb-user-long" => ok(json!({"data": [
                {"id": "1001", "access_token": "page-token-a", "instagram_business_account": {"id": A, "username": "shop_a"}},
                {"id": "1002", "access_token": "page-token-none"}
            ]})),
            ("POST", "/oauth/access_token") if seen.body.contains("grant_type=authorization_code") => {
                ok(json!({"access_token": "ig-short", "user_id": 17_841_400_000_000_002u64}))
            }
            ("GET", "/access_token") if bearer == "Bearer ig-short" => {
                ok(json!({"access_token": "ig-long", "token_type": "bearer", "expires_in": 5_184_000}))
            }
            ("GET", "/v23.0/me") if bearer == "Bearer ig-long" => {
                ok(json!({"user_id": B, "username": "shop_b", "id": "999"}))
            }
            ("GET", "/refresh_access_token") if refresh_ok => {
                ok(json!({"access_token": "ig-refreshed", "token_type": "bearer", "expires_in": 5_184_000}))
            }
            ("GET", "/refresh_access_token") => (400, graph_fixture("error-token-expired.json")),
            ("GET", path) if path.starts_with("/v23.0/1098765432100001") && bearer == "Bearer page-token-a" => {
                (200, graph_fixture("profile.json"))
            }
            _ => (400, json!({"error": {"message": "unexpected", "type": "OAuthException", "code": 100}}).to_string()),
        }
    }
}

fn link_request(login: LoginKind, now: u64) -> LinkRequest {
    LinkRequest {
        login,
        code: "AQB-code#_".into(),
        redirect_uri: "https://helpdesk.example/ig/callback".into(),
        app_id: "1234".into(),
        app_secret: "app-secret-9".into(),
        now,
    }
}

fn db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    (dir, path)
}

#[test]
fn facebook_login_exchanges_the_code_and_links_the_pages_instagram_account() {
    let graph = FakeGraph::start(meta(true));
    let (_dir, path) = db();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    let linked = harness.link_accounts(&link_request(LoginKind::Facebook, NOW)).unwrap();
    assert_eq!(linked.len(), 1, "the Page without an Instagram account gives none");
    assert_eq!(
        (linked[0].account_id.as_str(), linked[0].username.as_deref(), linked[0].relinked),
        (A, Some("shop_a"), false)
    );
    assert_eq!(linked[0].expires_at, NOW + 5_183_944_000);
    assert_eq!(stored_value(&path, &format!("account/{A}/access-token")).as_deref(), Some("page-token-a"));
    let record: Value = serde_json::from_str(&stored_value(&path, &format!("account/{A}/link")).unwrap()).unwrap();
    assert_eq!(
        (&record["page_id"], &record["authorized_by"]),
        (&json!("1001"), &json!(["5550001"])),
        "the Page (its webhooks are subscribed there) and who logged in (Meta's callbacks name them)"
    );
    let first = &graph.requests()[0];
    assert!(
        first.url.contains("code=AQB-code%23_") && first.url.contains("redirect_uri=https%3A%2F%2Fhelpdesk.example"),
        "{}",
        first.url
    );
    // The Page token is what later calls use: the profile is fetched with it.
    let events = harness.translate(&signed_delivery("text.json", NOW), &options()).unwrap();
    assert_eq!(events[0].customer.as_ref().unwrap().username.as_deref(), Some("minji.kim_92"));
}

#[test]
fn instagram_login_links_refreshes_and_reports_a_failed_refresh() {
    let graph = FakeGraph::start(meta(true));
    let (_dir, path) = db();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    let linked = harness.link_accounts(&link_request(LoginKind::Instagram, NOW)).unwrap();
    assert_eq!((linked[0].account_id.as_str(), linked[0].username.as_deref()), (B, Some("shop_b")));
    assert_eq!(stored_value(&path, &format!("account/{B}/access-token")).as_deref(), Some("ig-long"));
    let form = &graph.requests()[0];
    assert!(
        form.body.contains("client_secret=app-secret-9") && form.body.contains("code=AQB-code%23_"),
        "{}",
        form.body
    );

    let too_early = harness.refresh_token(B, NOW + 3_600_000);
    assert!(matches!(too_early, Err(CallError::Rejected(e)) if e.code == "refresh-too-early"));
    let refreshed_at = NOW + 31 * DAY;
    assert_eq!(harness.refresh_token(B, refreshed_at).unwrap(), refreshed_at + 5_184_000_000);
    assert_eq!(stored_value(&path, &format!("account/{B}/access-token")).as_deref(), Some("ig-refreshed"));
    assert_eq!(
        graph.requests().last().unwrap().authorization.as_deref(),
        Some("Bearer ig-long"),
        "the old token asked for the new one"
    );

    graph.answer_with(meta(false));
    let failed = harness.refresh_token(B, refreshed_at + 2 * DAY);
    assert!(matches!(&failed, Err(CallError::Rejected(e)) if e.code == "token-expired"), "{failed:?}");
    assert_eq!(
        stored_value(&path, &format!("account/{B}/access-token")).as_deref(),
        Some("ig-refreshed"),
        "a failed refresh keeps the token"
    );
}

#[test]
fn re_authorizing_the_same_account_keeps_its_data_another_account_starts_fresh() {
    let graph = FakeGraph::start(meta(true));
    let (_dir, path) = db();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    harness.link_accounts(&link_request(LoginKind::Facebook, NOW)).unwrap();
    harness.set_filters(A, Filters { skip_story_mentions: true, skip_shares: false, skip_comments: false }).unwrap();
    harness.translate(&signed_delivery("text.json", NOW), &options()).unwrap();
    let profile_fetches = graph.requests().len();
    // A 190 broke the link; the owner re-authorizes with the same account 58 days later.
    harness
        .database()
        .provision(
            harness.namespace().clone(),
            &format!("account/{A}/link-error"),
            br#"{"code":190,"subcode":460,"at":1}"#,
        )
        .unwrap();
    let again = harness.link_accounts(&link_request(LoginKind::Facebook, NOW + 58 * DAY)).unwrap();
    assert!(again[0].relinked);
    assert_eq!(stored_value(&path, &format!("account/{A}/link-error")), None, "the new token clears the break");
    assert_eq!(
        harness.filters(A).unwrap(),
        Filters { skip_story_mentions: true, skip_shares: false, skip_comments: false },
        "settings kept"
    );
    let redelivered = harness.translate(&signed_delivery("text.json", NOW), &options()).unwrap();
    assert!(
        matches!(&redelivered[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate),
        "dedup state kept"
    );
    // Within the profile cache's 3-day TTL the cached profile serves, across the re-authorization.
    let later = harness.translate(&signed_delivery("reaction-react.json", NOW + 3_600_000), &options()).unwrap();
    assert_eq!(later[0].customer.as_ref().unwrap().username.as_deref(), Some("minji.kim_92"));
    assert_eq!(
        graph.requests().len(),
        profile_fetches + 4,
        "4 linking calls (code, long-lived token, who logged in, Pages), the profile came from the cache"
    );
    let other = harness.link_accounts(&link_request(LoginKind::Instagram, NOW)).unwrap();
    assert!(!other[0].relinked, "another account is a new link");
}

#[test]
fn a_new_selection_replaces_the_whole_set_and_says_what_it_drops() {
    let graph = FakeGraph::start(meta(true));
    let (_dir, path) = db();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    harness.link_accounts(&link_request(LoginKind::Facebook, NOW)).unwrap();
    harness.link_accounts(&link_request(LoginKind::Instagram, NOW)).unwrap();
    let first = harness.select_accounts(&[A.to_string()], true).unwrap();
    assert_eq!((first.added, first.removed, first.warning), (vec![A.to_string()], vec![], None));
    let plan = harness.select_accounts(&[B.to_string()], false).unwrap();
    assert_eq!(
        (plan.added.clone(), plan.kept.clone(), plan.removed.clone()),
        (vec![B.to_string()], vec![], vec![A.to_string()])
    );
    assert!(plan.warning.as_deref().unwrap().contains(A), "the pitfall is said before anything is applied");
    assert_eq!(
        stored_value(&path, &format!("account/{A}/access-token")).as_deref(),
        Some("page-token-a"),
        "planning changes nothing"
    );
    let both = harness.select_accounts(&[A.to_string(), B.to_string()], true).unwrap();
    assert_eq!((both.kept, both.added, both.warning), (vec![A.to_string()], vec![B.to_string()], None));

    harness.set_representative(Some(B)).unwrap();
    assert!(
        matches!(harness.set_representative(Some("17841400000000009")), Err(CallError::Rejected(e)) if e.code == "unknown-account")
    );
    let listed = harness.list_accounts().unwrap();
    let marks: Vec<_> = listed.iter().map(|a| (a.account_id.as_str(), a.representative)).collect();
    assert_eq!(marks, [(A, false), (B, true)], "at most one representative");
    harness.set_representative(Some(A)).unwrap();
    let marks: Vec<_> = harness.list_accounts().unwrap().iter().map(|a| a.representative).collect();
    assert_eq!(marks, [true, false], "marking another moves the mark");

    let dropped = harness.select_accounts(&[B.to_string()], true).unwrap();
    assert_eq!(dropped.removed, [A.to_string()]);
    assert_eq!(stored_value(&path, &format!("account/{A}/access-token")), None, "a dropped account loses its token");
    let listed = harness.list_accounts().unwrap();
    assert_eq!(
        (listed.len(), listed[0].account_id.as_str(), listed[0].representative),
        (1, B, false),
        "its representative mark went with it"
    );
}

#[test]
fn the_accounts_and_expiry_cli_work_on_the_database() {
    let graph = FakeGraph::start(meta(true));
    let (_dir, path) = db();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    harness.link_accounts(&link_request(LoginKind::Facebook, NOW)).unwrap();
    harness.link_accounts(&link_request(LoginKind::Instagram, NOW)).unwrap();
    drop(harness);
    let db = path.to_str().unwrap();
    let run = |args: &[&str]| {
        let (stdout, code) =
            messenger_harness::commands::run_args(["messenger-harness", "accounts", "--db", db].iter().chain(args));
        (serde_json::from_str::<Value>(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}")), code)
    };
    assert_eq!(run(&["select", A, B]).1, 0);
    let (refused, code) = run(&["select", B]);
    assert_eq!(
        (code, refused["error"]["code"].as_str(), refused["removed"][0].as_str()),
        (1, Some("selection-drops-accounts"), Some(A))
    );
    assert_eq!(run(&["representative", B]).1, 0);
    let (listed, code) = run(&["list"]);
    assert_eq!(
        (code, listed[1]["representative"].as_bool(), listed[1]["login"].as_str()),
        (0, Some(true), Some("instagram"))
    );
    assert!(
        !listed.to_string().contains("token-a") && !listed.to_string().contains("ig-long"),
        "no token in the output: {listed}"
    );
    let (changed, code) = run(&["select", "--confirm-drop", B]);
    assert_eq!((code, changed["removed"][0].as_str()), (0, Some(A)));
}
