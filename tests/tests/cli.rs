//! The `inbound` command of the CLI contract, run in process against the fake Graph.

use messenger_test_support::*;
use serde_json::Value;

fn run(args: &[&str]) -> (Value, u8) {
    run_cli(args)
}

#[test]
fn inbound_prints_the_events_and_keeps_dedup_in_the_db() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let body = webhook_path("text.json");
    let sig = signature_of("text.json");
    let args = [
        "inbound",
        "--app-secret",
        APP_SECRET,
        "--signature",
        &sig,
        "--graph-url",
        &graph.url(),
        "--db",
        db.to_str().unwrap(),
        "--now",
        "2026-11-12T09:14:04Z",
        body.to_str().unwrap(),
    ];
    let (events, code) = run(&args);
    assert_eq!(code, 0, "{events}");
    assert_eq!(events[0]["kind"], "customer-message");
    assert_eq!(events[0]["timestamp"], "2026-11-12T09:14:03.512Z");
    assert_eq!(events[0]["customer"]["profile-pending"], true, "no token was provisioned for the CLI");
    let (again, code) = run(&args);
    assert_eq!((code, again[0]["kind"].as_str(), again[0]["reason"].as_str()), (0, Some("skipped"), Some("duplicate")));
}

#[test]
fn inbound_refusals_are_json_errors_with_nonzero_exit() {
    let body = webhook_path("text.json");
    let body = body.to_str().unwrap();
    let (out, code) =
        run(&["inbound", "--app-secret", "wrong-secret", "--signature", &signature_of("text.json"), body]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("bad-signature")));
    let (out, code) =
        run(&["inbound", "--app-secret", APP_SECRET, "--signature", "sha256=00", "--now", "yesterday", body]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("invalid-argument")));
    let (out, code) = run(&["inbound", "--app-secret", APP_SECRET, "/nonexistent/body.json"]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("unreadable-input")));
    let big = fixtures_dir().join("webhooks/malformed/oversized-valid-2mb.json");
    let (out, code) = run(&["inbound", "--app-secret", APP_SECRET, "--signature", "sha256=00", big.to_str().unwrap()]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("payload-too-large")));
    let (out, code) = run(&["inbound", "--app-secret", APP_SECRET, "--graph-url", "http://10.1.2.3", body]);
    assert_eq!((code, out["error"]["code"].as_str()), (1, Some("invalid-argument")));
}

#[test]
fn expiry_evaluates_the_design_link_and_tells_owners_once() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("link.json");
    let write = |body: serde_json::Value| std::fs::write(&link, body.to_string()).unwrap();
    write(
        serde_json::json!({"now": "2026-11-25T10:00:00Z", "linked-at": "2026-09-28T09:00:00Z", "token-expires-at": null,
        "last-notice-at": null, "owners": ["owner-1", "owner-2"], "last-error": null}),
    );
    let (decision, code) = run(&["expiry", link.to_str().unwrap()]);
    assert_eq!(code, 0, "{decision}");
    assert_eq!(
        (decision["state"].as_str(), decision["expires-at"].as_str()),
        (Some("expiring-soon"), Some("2026-11-27T09:00:00.000Z"))
    );
    assert_eq!(decision["notify"], serde_json::json!(["owner-1", "owner-2"]));
    assert!(decision["notice"].as_str().unwrap().contains("2026-11-27"));
    write(
        serde_json::json!({"now": "2026-11-26T10:00:00Z", "linked-at": "2026-09-28T09:00:00Z", "last-notice-at": "2026-11-25T10:00:00Z",
        "owners": ["owner-1"], "last-error": {"code": 190, "subcode": 460}, "last-error-at": "2026-11-26T09:00:00Z"}),
    );
    let (decision, _) = run(&["expiry", link.to_str().unwrap()]);
    assert_eq!((decision["state"].as_str(), decision["reason"].as_str()), (Some("broken"), Some("password-changed")));
    assert_eq!(decision["notify"], serde_json::json!(["owner-1"]), "a break after the last notice is told");
    write(serde_json::json!({"linked-at": "yesterday", "owners": []}));
    let (error, code) = run(&["expiry", link.to_str().unwrap()]);
    assert_eq!((code, error["error"]["code"].as_str()), (1, Some("invalid-request")));
}
