//! A short fuzz pass (the long one is `messenger-harness fuzz`), and a search of every output for secrets.

use messenger_core::accounts::LinkRequest;
use messenger_core::expiry::LoginKind;
use messenger_harness::Database;
use messenger_test_support::*;
use serde_json::json;

#[test]
fn a_short_fuzz_pass_never_traps_or_panics() {
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(fixtures_dir().join("webhooks"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let report = messenger_harness::tools::fuzz::run(&harness, &seeds, 3_000, 42);
    assert!(report.passed(), "{report:#?}");
    assert!(
        report.ok > 0 && report.refused.contains_key("malformed-payload"),
        "the pass reached both outcomes: {report:?}"
    );
}

#[test]
fn the_fuzzer_drives_the_request_link_and_header_parsers_without_a_panic() {
    // Malformed times (a multi-byte character inside `2026-11-24T10:00:0éZ` once panicked the host), numbers and
    // headers through outbound::parse_request, expiry::parse_link and the server's header and query reading.
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let report = messenger_harness::tools::fuzz::run(&harness, &[], 3_000, 7);
    assert!(report.passed(), "{report:#?}");
    assert!(report.refused.contains_key("invalid-request"), "malformed REQUEST and LINK JSON were refused: {report:?}");
    assert!(report.ok > 0, "{report:?}");
}

#[test]
fn the_fuzzer_reaches_the_new_kinds_and_their_refusals_without_a_fault() {
    // Quick replies, cards, actions and media by id as replies and as REQUEST JSON, and ice breakers and menus
    // through messenger-profile.set: every case ends accepted or refused with a code, never in a trap or panic.
    let graph = FakeGraph::messaging();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let report = messenger_harness::tools::fuzz::run(&harness, &[], 3_000, 11);
    assert!(report.passed(), "{report:#?}");
    // A refusal counts under its first code: these come first in the new shapes.
    for code in ["action-not-alone", "too-many-cards", "quick-replies-need-text", "empty-locale", "invalid-request"] {
        assert!(report.refused.contains_key(code), "{code} was never reached: {report:?}");
    }
    assert!(graph.requests().iter().any(|r| r.url.contains("messenger_profile")), "valid settings reached Graph");
}

/// Secrets of every kind, used through the scenarios below; none may appear in any output.
const SECRETS: [&str; 5] = [APP_SECRET, ACCESS_TOKEN, "verify-token-7f", "link-app-secret-3c", "page-token-secret-a"];

#[test]
fn no_secret_appears_in_any_output() {
    let mut outputs = Vec::new();
    let graph = FakeGraph::start(|seen| {
        let ok = |v: serde_json::Value| (200, v.to_string());
        match seen.url.split('?').next().unwrap_or("") {
            "/v23.0/oauth/access_token" if seen.url.contains("fb_exchange_token") => {
                ok(json!({"access_token": "user-long"}))
            }
            "/v23.0/oauth/access_token" => ok(json!({"access_token": "user-short"})),
            "/v23.0/me/accounts" => ok(
                json!({"data": [{"id": "1", "access_token": "page-token-secret-a", "instagram_business_account": {"id": "17841400000000001"}}]}),
            ),
            "/v23.0/me/messages" => (400, graph_fixture("error-password-changed.json")),
            _ => (500, "{\"error\":{\"message\":\"boom\",\"code\":2}}".into()),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let harness = harness(Database::open(&db, 1).unwrap(), &graph);
    // Linking, a profile fetch that fails, a send refused with a 190, a bad signature, a bad handshake.
    let request = LinkRequest {
        login: LoginKind::Facebook,
        code: "c".into(),
        redirect_uri: "https://h.example/cb".into(),
        app_id: "1".into(),
        app_secret: "link-app-secret-3c".into(),
        now: 1_794_477_600_000,
    };
    outputs.push(format!("{:?}", harness.link_accounts(&request)));
    outputs.push(format!("{:?}", harness.translate(&signed_delivery("text.json", 0), &options())));
    let mut forged = signed_delivery("text.json", 0);
    forged.headers[0].1 = "sha256=00".into();
    outputs.push(format!("{:?}", harness.translate(&forged, &options())));
    let reply = messenger_core::outbound::Reply {
        account_id: "17841400000000001".into(),
        customer_id: "1098765432100001".into(),
        now: 1_794_477_600_000,
        author: messenger_core::outbound::Author::Agent,
        last_customer_message_at: 1_794_477_000_000,
        human_agent_tag: false,
        text: Some("hi".into()),
        ..Default::default()
    };
    let plan = harness.validate_reply(&reply).unwrap();
    outputs.push(format!("{:?}", harness.send_with_retries(&plan, &Default::default())));
    outputs.push(format!(
        "{:?}",
        harness.verify_subscription(
            &messenger_core::handshake::from_query("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"),
            "verify-token-7f"
        )
    ));
    outputs.push(format!("{:?}", harness.list_accounts()));
    outputs.push(format!("{:?}", harness.egress_denials()));
    drop(harness);
    // The CLI's stdout, for the same store.
    for args in [vec!["accounts", "list"], vec!["inbound", "--app-secret", APP_SECRET, "--signature", "sha256=00", "-"]]
    {
        let mut full = vec!["messenger-harness", "--db", db.to_str().unwrap()];
        full.extend(args);
        outputs.push(messenger_harness::commands::run_args(full).0);
    }
    let everything = outputs.join("\n");
    assert!(
        everything.contains("password-changed") && everything.contains("bad-signature"),
        "the scenarios ran: {everything}"
    );
    for secret in SECRETS {
        assert!(!everything.contains(secret), "{secret:?} leaked into an output:\n{everything}");
    }
}
