//! Linking from a browser, step by step over HTTP: the redirect to Meta's dialog and its signed state; the callback
//! refusing a forged, replayed, expired or foreign state and a cancelled dialog, each storing and exchanging
//! nothing; the selection, saved with a subscription per account (a refusal shown); the sign-in, cookies, CSRF
//! tokens and security headers.

use messenger_harness::{ConsoleConfig, Database, ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::console::Person;
use messenger_test_support::meta::{DialogAnswer, FakeAccount, FakeDialog, MetaGraph, MetaLogins};
use messenger_test_support::*;
use std::time::Duration;

/// The accounts the fake login reaches; B's subscription is refused.
const A: FakeAccount = FakeAccount { page_id: "1001", account_id: "17841400000000001", username: "shop_a" };
const B: FakeAccount = FakeAccount { page_id: "1002", account_id: "17841400000000002", username: "shop_b" };

/// A server with linking set up, its fake Meta and dialog, and its database's path.
struct Linking {
    server: ServerHandle,
    meta: MetaGraph,
    dialog: FakeDialog,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// A server whose link attempts live `attempt_lifetime` (10 minutes when none), on a fresh database.
fn start(attempt_lifetime: Option<Duration>) -> Linking {
    let meta = MetaGraph::start(MetaLogins { codes: vec![("fb-ab", vec![A, B])], refused: vec![B.account_id] });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let dialog = FakeDialog::start(&format!("{public_url}/connect/callback"));
    let console = ConsoleConfig {
        app_id: Some("1234".into()),
        public_url: Some(public_url),
        dialog_url: Some(format!("http://localhost:{}", dialog.port())),
        attempt_lifetime,
        ..Default::default()
    };
    let config = ServeConfig { addr: ([127, 0, 0, 1], port).into(), console, ..quick_serve_config() };
    let server = spawn(harness(Database::open(&db, 4).unwrap(), &meta.graph), config).unwrap();
    Linking { server, meta, dialog, db, _dir: dir }
}

/// Starts a link and follows the redirect to the fake dialog, which answers `answer`: the callback URL it sends the
/// browser back to.
fn through_dialog(person: &mut Person, dialog: &FakeDialog, start: &str, answer: DialogAnswer) -> String {
    dialog.answer(answer);
    let to_meta = person.get(start);
    assert_eq!(to_meta.status, 302, "{}", to_meta.body);
    person.get(to_meta.location()).location().to_owned()
}

/// A person signed in with the test API key.
fn signed_in(server: &ServerHandle) -> Person {
    let mut person = Person::new(server.addr);
    assert_eq!(person.sign_in(API_KEY).status, 303);
    person
}

#[test]
fn the_dialog_gets_the_app_the_redirect_uri_the_scopes_and_a_signed_state() {
    let linking = start(None);
    let mut person = Person::new(linking.server.addr);
    assert_eq!(person.get("/connect/facebook").location(), "/login", "no session: sign in first");
    let refused = person.sign_in("not-a-key");
    assert_eq!(refused.status, 401);
    assert!(!person.cookies.contains_key("messenger_session"), "a wrong key opens no session");
    let signed = person.sign_in(API_KEY);
    let cookie = signed.headers.iter().find(|(n, v)| n == "set-cookie" && v.starts_with("messenger_session=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.1.contains(attribute), "{attribute} in {}", cookie.1);
    }
    assert!(!cookie.1.contains(API_KEY), "the cookie never holds the key");

    let to_meta = person.get("/connect/facebook");
    let location = to_meta.location();
    let expected = format!("http://localhost:{}/v23.0/dialog/oauth?", linking.dialog.port());
    assert!(location.starts_with(&expected), "{location}");
    let redirect_uri = format!("http://127.0.0.1:{}/connect/callback", linking.server.addr.port());
    assert_eq!(meta::query_value(location, "redirect_uri").as_deref(), Some(redirect_uri.as_str()));
    assert_eq!(meta::query_value(location, "client_id").as_deref(), Some("1234"));
    assert_eq!(meta::query_value(location, "response_type").as_deref(), Some("code"));
    let scope = meta::query_value(location, "scope").unwrap();
    assert!(scope.contains("instagram_manage_messages") && scope.contains("pages_show_list"), "{scope}");
    let state = meta::query_value(location, "state").unwrap();
    assert!(state.len() > 60 && !state.contains(API_KEY), "a signed reference, no secret: {state}");
    let to_instagram = person.get("/connect/instagram");
    assert!(to_instagram.location().contains("/oauth/authorize?"), "{}", to_instagram.location());
    assert!(
        meta::query_value(to_instagram.location(), "scope").unwrap().contains("instagram_business_manage_messages")
    );

    // An API key starts a link too, and gets a session for the browser that follows.
    let mut helpdesk = Person::new(linking.server.addr);
    let started = helpdesk.send("GET", "/connect/facebook", &[AUTH], None);
    assert_eq!(started.status, 302);
    assert!(helpdesk.cookies.contains_key("messenger_session"));
    let (status, refused) =
        api_call(linking.server.addr, "GET", "/connect/facebook", &[("Authorization", "Bearer wrong-key")], b"");
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "a wrong key is the API's 401"
    );
    assert!(linking.meta.calls().is_empty(), "nothing is exchanged before the callback");
}

#[test]
fn forged_foreign_replayed_and_expired_states_and_a_cancel_store_and_exchange_nothing() {
    let linking = start(Some(Duration::from_millis(1500)));
    let mut person = signed_in(&linking.server);
    let rows = || stored_rows(&linking.db);

    // Cancelled: a page that says so.
    let back = through_dialog(&mut person, &linking.dialog, "/connect/facebook", DialogAnswer::Cancel);
    let before = rows();
    let cancelled = person.get(&back);
    assert_eq!(cancelled.status, 200);
    assert!(cancelled.body.contains("Login cancelled"), "{}", cancelled.body);
    assert_eq!(rows(), before, "a cancel stores nothing");
    assert!(linking.meta.calls().is_empty(), "a cancel exchanges nothing");

    // Forged: the state's signature does not match.
    let back = through_dialog(&mut person, &linking.dialog, "/connect/facebook", DialogAnswer::Code("fb-ab"));
    let state = meta::query_value(&back, "state").unwrap();
    // One hex digit of the reference changed: the signature no longer matches.
    let digit = if &state[20..21] == "0" { "1" } else { "0" };
    let forged = back.replace(&state, &format!("{}{digit}{}", &state[..20], &state[21..]));
    let before = rows();
    let refused = person.get(&forged);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("Start again"));
    assert_eq!(
        (rows(), linking.meta.calls().len()),
        (before.clone(), 0),
        "a forged state stores and exchanges nothing"
    );

    // Another session's state.
    let mut stranger = signed_in(&linking.server);
    assert_eq!(stranger.get(&back).status, 400);
    assert_eq!(
        (rows(), linking.meta.calls().len()),
        (before, 0),
        "another session's state stores and exchanges nothing"
    );

    // The real one works once; replayed, it is refused.
    let first = person.get(&back);
    assert_eq!(first.status, 303, "{}", first.body);
    assert!(first.location().starts_with("/connect/select?pick="));
    let (exchanged, before) = (linking.meta.calls().len(), rows());
    assert!(exchanged >= 3, "{:?}", linking.meta.calls());
    let replayed = person.get(&back);
    assert_eq!(replayed.status, 400);
    assert_eq!(
        (rows(), linking.meta.calls().len()),
        (before.clone(), exchanged),
        "a replay stores and exchanges nothing"
    );

    // Expired: the attempt outlived its lifetime (1.5 s here, 10 minutes by default).
    let late = through_dialog(&mut person, &linking.dialog, "/connect/facebook", DialogAnswer::Code("fb-ab"));
    std::thread::sleep(Duration::from_millis(1600));
    let before = rows();
    assert_eq!(person.get(&late).status, 400);
    assert_eq!(
        (rows(), linking.meta.calls().len()),
        (before, exchanged),
        "an expired state stores and exchanges nothing"
    );
}

#[test]
fn saving_a_selection_links_and_subscribes_each_account_and_shows_a_refused_subscription() {
    let linking = start(None);
    let mut person = signed_in(&linking.server);
    let back = through_dialog(&mut person, &linking.dialog, "/connect/facebook", DialogAnswer::Code("fb-ab"));
    let picked = person.get(&back);
    let select = person.get(picked.location());
    assert_eq!(select.status, 200, "{}", select.body);
    assert!(select.body.contains("@shop_a") && select.body.contains("@shop_b"));
    let (csrf, pick) = (select.field("csrf"), select.field("pick"));

    // Without the CSRF token the form changes nothing.
    let forged = person.post("/connect/select", &[("pick", &pick), ("account", A.account_id)]);
    assert_eq!(forged.status, 403);
    let (_, listed) = api_call(linking.server.addr, "GET", "/api/accounts", &[AUTH], b"");
    assert_eq!(listed["accounts"], serde_json::json!([]));

    let saved = person.post(
        "/connect/select",
        &[("csrf", &csrf), ("pick", &pick), ("account", A.account_id), ("account", B.account_id)],
    );
    assert_eq!(saved.location(), "/?saved=1");
    let subscribed: Vec<String> =
        linking.meta.calls().into_iter().filter(|c| c.ends_with("/subscribed_apps")).collect();
    assert_eq!(
        subscribed,
        ["POST /v23.0/1001/subscribed_apps", "POST /v23.0/1002/subscribed_apps"],
        "each on its Page"
    );
    let (_, listed) = api_call(linking.server.addr, "GET", "/api/accounts", &[AUTH], b"");
    let accounts = listed["accounts"].as_array().unwrap();
    assert_eq!((accounts[0]["subscribed"].as_bool(), accounts[1]["subscribed"].as_bool()), (Some(true), Some(false)));
    assert_eq!(accounts[1]["subscription-error"]["code"], "permission-missing", "{}", accounts[1]);
    let console = person.get("/?saved=1");
    assert!(console.body.contains("subscription failed"), "the refusal is shown: {}", console.body);
    for (header, value) in [("x-frame-options", "DENY"), ("referrer-policy", "no-referrer")] {
        assert_eq!(console.header(header), Some(value));
    }
    let policy = console.header("content-security-policy").unwrap();
    assert!(
        policy.contains("default-src 'none'")
            && policy.contains("frame-ancestors 'none'")
            && !policy.contains("script-src")
    );
    assert!(!console.body.contains("<script"), "no script on any page");
}
