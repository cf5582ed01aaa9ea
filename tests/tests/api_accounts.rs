//! `/api/accounts`: listed with state, expiry, representative, filters, subscription and last webhook; changed
//! through the same implementation as the CLI (the answers are the CLI's output); a drop needs a confirmation;
//! bad input is refused with a code and changes nothing; a key bound to a channel reaches no other.

use messenger_harness::{ApiKey, Database, ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::*;
use serde_json::{Value, json};

const A: &str = "17841400000000001";
const B: &str = "17841400000000002";

fn start(dir: &tempfile::TempDir, graph: &FakeGraph) -> ServerHandle {
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    messenger_test_support::meta::provision_links(&database, &[(A, 20, 5, "5550001"), (B, 20, 40, "5550001")], &[A, B]);
    let mut keys = quick_serve_config().api_keys;
    keys.push(ApiKey { name: "bound".into(), key: "bound-key".into(), channel: Some("other".into()) });
    spawn(harness(database, graph), ServeConfig { api_keys: keys, ..quick_serve_config() }).unwrap()
}

fn cli(db: &std::path::Path, args: &[&str]) -> Value {
    let db = db.to_str().unwrap();
    let (stdout, code) = messenger_harness::commands::run_args(["messenger-harness", "--db", db].iter().chain(args));
    assert!(code <= 1, "{stdout}");
    serde_json::from_str(&stdout).unwrap()
}

fn accounts(server: &ServerHandle) -> Vec<Value> {
    let (status, listed) = api_call(server.addr, "GET", "/api/accounts", &[AUTH], b"");
    assert_eq!(status, 200, "{listed}");
    listed["accounts"].as_array().unwrap().clone()
}

#[test]
fn the_accounts_api_lists_and_changes_what_the_cli_does() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph);
    let listed = accounts(&server);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        (listed[0]["account-id"].as_str(), listed[0]["state"].as_str(), listed[0]["subscribed"].as_bool()),
        (Some(A), Some("expiring-soon"), Some(false))
    );
    assert_eq!((listed[1]["state"].as_str(), &listed[1]["last-webhook-at"]), (Some("active"), &Value::Null));
    assert_eq!(
        listed[0]["filters"],
        json!({"skip-story-mentions": false, "skip-shares": false, "skip-comments": false})
    );
    for field in ["username", "login", "expires-at", "representative"] {
        assert!(listed[0].get(field).is_some(), "{field} in {}", listed[0]);
    }
    // A webhook for A: subscribed, with the time it came.
    let (body, signature) = signed_item(A, "1098765432100001", messenger_harness::now_ms(), "message", "m-1");
    assert_eq!(post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body).0, 200);
    let listed = accounts(&server);
    assert_eq!(listed[0]["subscribed"], true);
    assert!(listed[0]["last-webhook-at"].is_string(), "{}", listed[0]);

    // Filters: the API's answer is the CLI's output, and the CLI sees what the API stored.
    let path = format!("/api/accounts/{A}/filters");
    let (status, filters) = api_call(server.addr, "PUT", &path, &[AUTH], br#"{"skip-shares":true}"#);
    assert_eq!(status, 200, "{filters}");
    assert_eq!(filters, cli(&dir.path().join("c.db"), &["filters", "--account", A]));
    assert_eq!(filters["skip-shares"], true);
    for bad in [&br#"{"skip-shares":"yes"}"#[..], br#"{"skip-everything":true}"#, b"not json"] {
        let (status, refused) = api_call(server.addr, "PUT", &path, &[AUTH], bad);
        assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("invalid-argument")), "{refused}");
    }
    assert_eq!(accounts(&server)[0]["filters"]["skip-shares"], true, "a refusal changed nothing");
    let oversized = vec![b' '; 2 << 20];
    let (status, refused) = api_call(server.addr, "PUT", &path, &[AUTH], &oversized);
    assert_eq!((status, refused["error"]["code"].as_str()), (413, Some("payload-too-large")), "{refused}");

    // Representative.
    let (status, marked) = api_call(server.addr, "PUT", &format!("/api/accounts/{B}/representative"), &[AUTH], b"");
    assert_eq!((status, marked), (200, json!({"representative": B})));
    assert_eq!(accounts(&server)[1]["representative"], true);

    // A selection that drops an account needs a confirmation, as on the CLI.
    let select =
        |body: Value| api_call(server.addr, "POST", "/api/accounts/select", &[AUTH], body.to_string().as_bytes());
    let (status, plan) =
        api_call(server.addr, "POST", "/api/accounts/plan", &[AUTH], json!({"accounts": [B]}).to_string().as_bytes());
    assert_eq!((status, &plan["removed"]), (200, &json!([A])), "{plan}");
    let (status, refused) = select(json!({"accounts": [B]}));
    assert_eq!(
        (status, refused["error"]["code"].as_str(), &refused["removed"]),
        (409, Some("selection-drops-accounts"), &json!([A]))
    );
    assert_eq!(accounts(&server).len(), 2, "nothing dropped without a confirmation");
    let (status, bad) = select(json!({"accounts": "B"}));
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("invalid-argument")));
    let (status, applied) = select(json!({"accounts": [B], "confirm-drop": true}));
    assert_eq!((status, &applied["removed"]), (200, &json!([A])), "{applied}");
    let listed = accounts(&server);
    assert_eq!((listed.len(), listed[0]["account-id"].as_str()), (1, Some(B)));
    assert_eq!(cli(&dir.path().join("c.db"), &["accounts", "list"]).as_array().unwrap().len(), 1);

    // A key bound to another channel sees that channel only.
    let bound = ("Authorization", "Bearer bound-key");
    let (status, own) = api_call(server.addr, "GET", "/api/accounts", &[bound], b"");
    assert_eq!((status, own), (200, json!({"accounts": []})));
    let (status, refused) = api_call(server.addr, "GET", "/api/accounts?channel=default", &[bound], b"");
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden-channel")));
    let (status, refused) = api_call(server.addr, "GET", "/api/events?channel=default", &[bound], b"");
    assert_eq!((status, refused["error"]["code"].as_str()), (403, Some("forbidden-channel")));
}
