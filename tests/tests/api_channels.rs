//! Many channels in one deployment: each webhook entry reaches the channel that linked its account and no other
//! (one delivery may carry entries for several), an account no channel linked goes to the default channel or is
//! recorded as skipped, a channel cannot take an account another linked, and replies, settings and owner notices
//! are each channel's own.

use messenger_harness::{Database, Namespace, ServeConfig, ServerHandle, Unrouted, serve as spawn};
use messenger_test_support::pg;
use messenger_test_support::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const A: &str = "17841400000000001";
const B: &str = "17841400000000002";
const UNLINKED: &str = "17841400000000009";
const CUSTOMER: &str = "1098765432100001";
const DAY: u64 = 86_400_000;

/// A server whose store has A ready to link in channel `shop-a` (expiring in 5 days) and B in `shop-b`.
fn start(dir: &tempfile::TempDir, graph: &FakeGraph, tweak: impl FnOnce(&mut ServeConfig)) -> ServerHandle {
    start_on(Database::open(&dir.path().join("c.db"), 4).unwrap(), graph, tweak)
}

fn start_on(database: Database, graph: &FakeGraph, tweak: impl FnOnce(&mut ServeConfig)) -> ServerHandle {
    let now = messenger_harness::now_ms();
    for (account, channel) in [(A, "shop-a"), (B, "shop-b")] {
        let namespace = Namespace::new("instagram", channel).unwrap();
        let record = json!({"linked_at": now - 20 * DAY, "token_expires_at": now + 5 * DAY,
            "username": format!("shop_{account}"), "instagram_login": false});
        database
            .provision(namespace.clone(), &messenger_core::keys::link_record(account), record.to_string().as_bytes())
            .unwrap();
        let token = messenger_core::keys::access_token(account);
        database.provision(namespace, &token, ACCESS_TOKEN.as_bytes()).unwrap();
    }
    let mut config = quick_serve_config();
    config.expiry_every = Duration::from_millis(100);
    tweak(&mut config);
    spawn(harness(database, graph), config).unwrap()
}

fn select(server: &ServerHandle, channel: &str, accounts: &[&str]) -> (u16, Value) {
    let body = json!({"accounts": accounts}).to_string();
    api_call(server.addr, "POST", &format!("/api/accounts/select?channel={channel}"), &[AUTH], body.as_bytes())
}

/// One signed delivery with a text message for each account, in one batch, as Meta sends them.
fn batch(accounts: &[&str], tag: &str) -> (Vec<u8>, String) {
    let now = messenger_harness::now_ms();
    let entries: Vec<Value> = accounts
        .iter()
        .map(|account| {
            json!({"time": now, "id": account, "messaging": [{"sender": {"id": CUSTOMER}, "recipient": {"id": account},
                "timestamp": now, "message": {"mid": format!("m-{tag}-{account}"), "text": format!("to {account}")}}]})
        })
        .collect();
    let body = serde_json::to_vec(&json!({"object": "instagram", "entry": entries})).unwrap();
    let signature = sign(APP_SECRET, &body);
    (body, signature)
}

fn deliver(server: &ServerHandle, accounts: &[&str], tag: &str) {
    let (body, signature) = batch(accounts, tag);
    let (status, answer) = post(server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body);
    assert_eq!(status, 200, "{answer}");
}

fn feed(server: &ServerHandle, channel: &str) -> Vec<Value> {
    read_feed(server.addr, &format!("&channel={channel}"), "", 100).0
}

/// The (account, text) of each message event.
fn messages(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["kind"] == "customer-message")
        .map(|e| (e["account-id"].as_str().unwrap().to_owned(), e["text"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn each_entry_lands_in_the_channel_that_linked_its_account_and_nowhere_else() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, |_| {});
    assert_eq!(select(&server, "shop-a", &[A]).0, 200);
    assert_eq!(select(&server, "shop-b", &[B]).0, 200);

    // One channel cannot take an account another linked, planned or applied; nothing changes.
    for path in ["/api/accounts/plan?channel=shop-b", "/api/accounts/select?channel=shop-b"] {
        let body = json!({"accounts": [A, B]}).to_string();
        let (status, refused) = api_call(server.addr, "POST", path, &[AUTH], body.as_bytes());
        assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("account-in-another-channel")), "{refused}");
    }

    // A batch for both accounts and one no channel linked, then one for A alone.
    deliver(&server, &[A, B, UNLINKED], "1");
    deliver(&server, &[A], "2");
    let (shop_a, shop_b, default) = (feed(&server, "shop-a"), feed(&server, "shop-b"), feed(&server, "default"));
    let to = |account: &str| (account.to_owned(), format!("to {account}"));
    assert_eq!(messages(&shop_a), vec![to(A), to(A)], "{shop_a:?}");
    assert_eq!(messages(&shop_b), vec![to(B)], "{shop_b:?}");
    assert_eq!(messages(&default), vec![to(UNLINKED)], "the default channel takes what no channel linked");
    assert!(shop_a.iter().chain(&shop_b).chain(&default).all(|e| e["channel"].is_string()));
    assert!(shop_a.iter().all(|e| e["channel"] == "shop-a"), "{shop_a:?}");

    // A redelivery of the batch stores nothing new anywhere.
    deliver(&server, &[A, B, UNLINKED], "1");
    assert_eq!(messages(&feed(&server, "shop-a")).len(), 2);
    assert_eq!(messages(&feed(&server, "shop-b")).len(), 1);
    assert_eq!(messages(&feed(&server, "default")).len(), 1);

    // Replies are the channel's own: another channel cannot see their status.
    let reply =
        json!({"account-id": A, "customer-id": CUSTOMER, "author": "agent", "text": "Hello from A"}).to_string();
    let (status, sent) = api_call(server.addr, "POST", "/api/messages?channel=shop-a", &[AUTH], reply.as_bytes());
    assert_eq!(status, 200, "{sent}");
    let id = sent["id"].as_i64().unwrap();
    let status_of =
        |channel: &str| api_call(server.addr, "GET", &format!("/api/messages/{id}?channel={channel}"), &[AUTH], b"").0;
    assert_eq!((status_of("shop-a"), status_of("shop-b"), status_of("default")), (200, 404, 404));

    // Dropping A from shop-a frees it for shop-b.
    let drop_a = json!({"accounts": [], "confirm-drop": true}).to_string();
    let path = "/api/accounts/select?channel=shop-a";
    assert_eq!(api_call(server.addr, "POST", path, &[AUTH], drop_a.as_bytes()).0, 200);
    deliver(&server, &[A], "3");
    assert_eq!(messages(&feed(&server, "default")).len(), 2, "an unlinked account's entry goes to the default channel");
}

#[test]
fn two_nodes_on_postgres_route_by_the_same_links() {
    let postgres = pg::Postgres::start();
    let url = postgres.create_database("channels");
    let graph = FakeGraph::with_profiles();
    let nodes: Vec<ServerHandle> = (0..2)
        .map(|i| start_on(Database::connect(&url, 4).unwrap(), &graph, |c| c.node = format!("node-{i}")))
        .collect();
    assert_eq!(select(&nodes[0], "shop-a", &[A]).0, 200);
    assert_eq!(select(&nodes[1], "shop-b", &[B]).0, 200);
    let (status, refused) = select(&nodes[1], "shop-b", &[A, B]);
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("account-in-another-channel")));
    deliver(&nodes[1], &[B, A, UNLINKED], "1");
    deliver(&nodes[0], &[A], "2");
    let to = |account: &str| (account.to_owned(), format!("to {account}"));
    for node in &nodes {
        assert_eq!(messages(&feed(node, "shop-a")), vec![to(A), to(A)]);
        assert_eq!(messages(&feed(node, "shop-b")), vec![to(B)]);
        assert_eq!(messages(&feed(node, "default")), vec![to(UNLINKED)]);
    }
}

#[test]
fn with_unrouted_skip_an_unlinked_accounts_entry_is_recorded_as_skipped_not_lost() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, |config| config.unrouted = Unrouted::Skip);
    assert_eq!(select(&server, "shop-a", &[A]).0, 200);
    deliver(&server, &[A, UNLINKED], "1");
    assert_eq!(messages(&feed(&server, "shop-a")), vec![(A.to_owned(), format!("to {A}"))]);
    let default = feed(&server, "default");
    assert_eq!(default.len(), 1, "{default:?}");
    assert_eq!(
        (&default[0]["kind"], &default[0]["reason"], &default[0]["account-id"]),
        (&json!("skipped"), &json!("unlinked-account"), &json!(UNLINKED))
    );
    // The raw entry is kept.
    let db = dir.path().join("c.db");
    let bodies: Vec<String> = rusqlite::Connection::open(&db)
        .unwrap()
        .prepare("SELECT CAST(body AS TEXT) FROM deliveries WHERE namespace = 'instagram/default'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        bodies.iter().any(|body| body.contains(UNLINKED) && !body.contains(&format!("\"id\":\"{A}\""))),
        "{bodies:?}"
    );
}

#[test]
fn settings_and_owner_notices_are_each_channels_own() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, |config| config.owners = vec!["deployment-ops".into()]);
    let path = "/api/settings?channel=shop-a";
    for bad in [json!({"owners": [""]}), json!({"language": "not a tag!"}), json!({"owners": ["o"], "extra": 1})] {
        let (status, refused) = api_call(server.addr, "PUT", path, &[AUTH], bad.to_string().as_bytes());
        assert_eq!(status, 400, "{refused}");
    }
    let own = json!({"owners": ["owner-a"], "language": "ko"});
    let (status, stored) = api_call(server.addr, "PUT", path, &[AUTH], own.to_string().as_bytes());
    assert_eq!((status, &stored["settings"]), (200, &own), "{stored}");
    let (_, shown) = api_call(server.addr, "GET", "/api/settings?channel=shop-b", &[AUTH], b"");
    assert_eq!(shown["effective"], json!({"owners": ["deployment-ops"]}), "shop-b falls back to the deployment's");
    assert_eq!(select(&server, "shop-a", &[A]).0, 200);
    assert_eq!(select(&server, "shop-b", &[B]).0, 200);

    // Both accounts expire in 5 days: each channel's scheduler tells its own owners.
    let deadline = Instant::now() + Duration::from_secs(10);
    let notice = |channel: &str| feed(&server, channel).into_iter().find(|e| e["kind"] == "owner-notice");
    let (a, b) = loop {
        if let (Some(a), Some(b)) = (notice("shop-a"), notice("shop-b")) {
            break (a, b);
        }
        assert!(Instant::now() < deadline, "no owner notices in 10 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!((&a["account-id"], &a["notify"]), (&json!(A), &json!(["owner-a"])));
    assert_eq!((&b["account-id"], &b["notify"]), (&json!(B), &json!(["deployment-ops"])));
    assert_ne!(a["notice"], b["notice"], "Korean for shop-a, the default language for shop-b");
}
