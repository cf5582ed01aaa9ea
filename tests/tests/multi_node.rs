//! Three `serve` nodes on one throwaway PostgreSQL, coordinating only through it: every fixture posted to two
//! nodes at the same moment is stored once; 50 replies, each failing once with a 500, reach Graph exactly once
//! each; and three expiry schedulers store each owner notice once.

use messenger_harness::journal;
use messenger_harness::{Database, Namespace, Outbox, ReplyStatus};
use messenger_harness::{ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::pg::Postgres;
use messenger_test_support::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

fn node(database: Database, graph: &FakeGraph, tweak: impl Fn(&mut ServeConfig)) -> ServerHandle {
    let mut config = ServeConfig { lease: Duration::from_secs(30), ..quick_serve_config() };
    tweak(&mut config);
    spawn(harness(database, graph), config).unwrap()
}

/// Three nodes, each with its own name and its own connection pool to `url`.
fn cluster(url: &str, graph: &FakeGraph, tweak: impl Fn(&mut ServeConfig)) -> Vec<ServerHandle> {
    (0..3)
        .map(|i| {
            node(Database::connect(url, 4).unwrap(), graph, |c| {
                c.node = format!("node-{i}");
                tweak(c);
            })
        })
        .collect()
}

fn namespace() -> Namespace {
    Namespace::new("instagram", "default").unwrap()
}

/// The stored events as sorted JSON texts: a multiset to compare.
fn sorted_events(database: &Database) -> Vec<String> {
    let mut events: Vec<String> =
        journal::events(database, &namespace()).unwrap().iter().map(Value::to_string).collect();
    events.sort();
    events
}

#[test]
fn every_fixture_posted_to_two_nodes_at_once_is_stored_once() {
    let graph = FakeGraph::with_profiles();
    // What one node on SQLite stores for the fixtures, each posted once: the reference.
    let reference = Database::in_memory().unwrap();
    let single = node(reference.clone(), &graph, |_| {});
    for name in webhook_fixture_names() {
        let signature = signature_of(&name);
        let signature = [("X-Hub-Signature-256", signature.as_str())];
        let (status, body) = post(&single, "/webhooks/instagram", &signature, &webhook(&name));
        assert_eq!(status, 200, "{name}: {body}");
    }
    single.stop().unwrap();

    let postgres = Postgres::start();
    let url = postgres.create_database("fixtures");
    let nodes = cluster(&url, &graph, |_| {});
    for (i, name) in webhook_fixture_names().iter().enumerate() {
        let (body, signature) = (webhook(name), signature_of(name));
        let signature = [("X-Hub-Signature-256", signature.as_str())];
        let together = Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let posts: Vec<_> = [i % 3, (i + 1) % 3]
                .into_iter()
                .map(|n| {
                    let (node, body, signature, together) = (&nodes[n], &body, &signature, &together);
                    s.spawn(move || {
                        together.wait();
                        post(node, "/webhooks/instagram", signature, body).0
                    })
                })
                .collect();
            posts.into_iter().map(|p| p.join().unwrap()).collect()
        });
        assert_eq!(statuses, vec![200, 200], "{name}: both nodes acknowledge");
    }
    let shared = Database::connect(&url, 1).unwrap();
    let stored = sorted_events(&shared);
    let expected = sorted_events(&reference);
    let first_difference = stored.iter().zip(&expected).find(|(a, b)| a != b);
    assert!(
        stored == expected,
        "not the events one node stores given each delivery once: {} against {}; first difference {first_difference:?}",
        stored.len(),
        expected.len()
    );
    let messages = stored.iter().filter(|e| e.contains(r#""kind":"customer-message""#)).count();
    assert!(messages >= 10, "the fixtures hold customer messages: {messages}");
    for node in nodes {
        node.stop().unwrap();
    }
}

#[test]
fn fifty_replies_queued_across_three_nodes_each_reach_graph_once() {
    // Each reply's first send fails with a 500; every later one is accepted and counted by its text.
    let accepted: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let tried: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let (accepted_log, tried_log) = (accepted.clone(), tried.clone());
    let graph = FakeGraph::start(move |seen| {
        if !seen.url.contains("/messages") {
            return (404, "{}".into());
        }
        let text = serde_json::from_str::<Value>(&seen.body).unwrap()["message"]["text"].as_str().unwrap().to_owned();
        let attempt = {
            let mut tried = tried_log.lock().unwrap();
            *tried.entry(text.clone()).and_modify(|n| *n += 1).or_insert(1)
        };
        if attempt == 1 {
            return (500, r#"{"error":{"message":"temporary","type":"OAuthException","code":2}}"#.into());
        }
        *accepted_log.lock().unwrap().entry(text).or_insert(0) += 1;
        (200, graph_fixture("send-ok.json"))
    });
    let postgres = Postgres::start();
    let url = postgres.create_database("replies");
    let nodes = cluster(&url, &graph, |_| {});
    let mut ids = Vec::new();
    for i in 0..50 {
        let reply = json!({"account-id": "17841400000000001", "customer-id": "1098765432100001", "author": "agent",
            "last-customer-message-at": messenger_core::time::format_rfc3339(messenger_harness::now_ms() - 60_000),
            "text": format!("Reply number {i}")});
        let (status, body) = post(&nodes[i % 3], "/api/messages", &[AUTH], reply.to_string().as_bytes());
        assert_eq!(status, 202, "{body}");
        ids.push(serde_json::from_str::<Value>(&body).unwrap()["queued"].as_i64().unwrap());
    }
    let outbox = Outbox::new(Database::connect(&url, 1).unwrap(), namespace(), "reader", Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(60);
    let unsent = || ids.iter().filter(|id| outbox.status(**id).unwrap().unwrap().status != ReplyStatus::Sent).count();
    while unsent() > 0 {
        assert!(Instant::now() < deadline, "{} replies still not sent", unsent());
        std::thread::sleep(Duration::from_millis(50));
    }
    for node in nodes {
        node.stop().unwrap();
    }
    let accepted = accepted.lock().unwrap();
    assert_eq!(accepted.len(), 50, "every reply reached Graph");
    assert!(accepted.values().all(|n| *n == 1), "none twice: {accepted:?}");
    assert_eq!(accepted.values().sum::<u32>(), 50);
}

#[test]
fn three_expiry_schedulers_store_each_owner_notice_once() {
    let graph = FakeGraph::with_profiles();
    let postgres = Postgres::start();
    let url = postgres.create_database("expiry");
    let database = Database::connect(&url, 1).unwrap();
    let now = messenger_harness::now_ms();
    let accounts = ["17841400000000001", "17841400000000002", "17841400000000003"];
    for account in accounts {
        let record = json!({"linked_at": now - 55 * 86_400_000, "token_expires_at": now + 5 * 86_400_000,
            "username": format!("shop_{account}"), "instagram_login": false});
        database
            .provision(namespace(), &messenger_core::keys::link_record(account), record.to_string().as_bytes())
            .unwrap();
    }
    database
        .provision(namespace(), messenger_core::keys::CHANNEL_ACCOUNTS, json!(accounts).to_string().as_bytes())
        .unwrap();
    // A zero lease lets all three schedulers run at once: the notice's own compare-and-swap must hold alone.
    let nodes = cluster(&url, &graph, |c| {
        c.expiry_every = Duration::from_millis(30);
        c.lease = Duration::ZERO;
        c.owners = vec!["owner-1".into()];
    });
    std::thread::sleep(Duration::from_millis(1_500));
    for node in nodes {
        node.stop().unwrap();
    }
    let notices: Vec<Value> =
        journal::events(&database, &namespace()).unwrap().into_iter().filter(|e| e["kind"] == "owner-notice").collect();
    let mut noticed: Vec<&str> = notices.iter().map(|n| n["account-id"].as_str().unwrap()).collect();
    noticed.sort();
    assert_eq!(noticed, accounts, "one notice per account, whatever the node count: {notices:?}");
}
