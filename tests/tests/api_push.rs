//! Push (`forward`): every committed event reaches the receiver signed with the forward secret, in feed order, at
//! least once, through receiver failures (retried with backoff); and with two nodes on one PostgreSQL, one lease
//! holder at a time and every event delivered.

use messenger_harness::{
    Database, ForwardConfig, Namespace, ServeConfig, ServerHandle, forward_cursor, serve as spawn,
};
use messenger_test_support::*;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "forward-secret-9c2e";

fn forward_to(receiver: &FakeGraph) -> ForwardConfig {
    ForwardConfig {
        every: Duration::from_millis(20),
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        lease: Duration::from_secs(2),
        ..ForwardConfig::new(format!("{}/inbox", receiver.url()), SECRET)
    }
}

fn start(database: Database, receiver: &FakeGraph, graph: &FakeGraph, node: &str) -> ServerHandle {
    let config = ServeConfig { forward: Some(forward_to(receiver)), node: node.into(), ..quick_serve_config() };
    spawn(harness(database, graph), config).unwrap()
}

/// The events the receiver acknowledged (2xx), each signature checked, deduplicated on the cursor; panics when a
/// later batch goes back before an event already taken.
fn received(receiver: &FakeGraph, acknowledged: &[bool]) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut events = Vec::new();
    for (request, ok) in receiver.requests().iter().zip(acknowledged) {
        let signature = request.header("x-connector-signature-256").expect("signed");
        assert_eq!(signature, sign(SECRET, request.body.as_bytes()), "the signature is the body's");
        if !ok {
            continue;
        }
        let batch: Value = serde_json::from_str(&request.body).unwrap();
        for event in batch["events"].as_array().unwrap() {
            let cursor = event["cursor"].as_str().unwrap().to_owned();
            if seen.insert(cursor.clone()) {
                if let Some(last) = events.last().map(|e: &Value| e["cursor"].as_str().unwrap().to_owned()) {
                    assert!(cursor > last, "in order: {cursor} after {last}");
                }
                events.push(event.clone());
            }
        }
    }
    events
}

/// A receiver that fails the first `failures` POSTs with a 500; records which POSTs it acknowledged.
fn receiver(failures: usize) -> (FakeGraph, Arc<std::sync::Mutex<Vec<bool>>>) {
    let (calls, acked) = (Arc::new(AtomicUsize::new(0)), Arc::new(std::sync::Mutex::new(Vec::new())));
    let log = acked.clone();
    let receiver = FakeGraph::start(move |_| {
        let ok = calls.fetch_add(1, Ordering::SeqCst) >= failures;
        log.lock().unwrap().push(ok);
        if ok { (200, "{}".into()) } else { (500, String::new()) }
    });
    (receiver, acked)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_event_is_pushed_signed_in_order_through_receiver_failures() {
    let graph = FakeGraph::with_profiles();
    let (receiver, acked) = receiver(3);
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    let server = start(database.clone(), &receiver, &graph, "node-1");
    for name in webhook_fixture_names() {
        let signature = signature_of(&name);
        let (status, body) =
            post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &webhook(&name));
        assert_eq!(status, 200, "{name}: {body}");
    }
    let (feed, last) = read_feed(server.addr, "", "", 1000);
    let namespace = Namespace::new("instagram", "default").unwrap();
    wait_for("the push to catch up", || forward_cursor(&database, &namespace).unwrap().to_cursor() == last);
    let pushed = received(&receiver, &acked.lock().unwrap());
    assert_eq!(pushed, feed, "the push carries the feed's objects, every one");
    assert!(acked.lock().unwrap().iter().filter(|ok| !**ok).count() == 3, "the failures were retried");
    assert_eq!(receiver.requests()[0].url, "/inbox");
}

#[test]
fn two_nodes_on_postgres_push_every_event_once_a_lease_at_a_time() {
    let postgres = pg::Postgres::start();
    let url = postgres.create_database("push");
    let graph = FakeGraph::with_profiles();
    let (receiver, acked) = receiver(0);
    let nodes: Vec<ServerHandle> =
        (0..2).map(|i| start(Database::connect(&url, 4).unwrap(), &receiver, &graph, &format!("node-{i}"))).collect();
    for (i, name) in webhook_fixture_names().iter().enumerate() {
        let signature = signature_of(name);
        let (status, _) =
            post(&nodes[i % 2], "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &webhook(name));
        assert_eq!(status, 200);
    }
    let (feed, last) = read_feed(nodes[0].addr, "", "", 1000);
    let reader = Database::connect(&url, 1).unwrap();
    let namespace = Namespace::new("instagram", "default").unwrap();
    wait_for("the push to catch up", || forward_cursor(&reader, &namespace).unwrap().to_cursor() == last);
    let pushed = received(&receiver, &acked.lock().unwrap());
    assert_eq!(pushed, feed, "every event, in feed order");
    let sent: usize = receiver
        .requests()
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["events"].as_array().unwrap().len())
        .sum();
    assert_eq!(sent, feed.len(), "one lease holder at a time: no batch was sent twice");
}
