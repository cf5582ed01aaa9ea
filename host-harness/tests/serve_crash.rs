//! Crash safety of `serve`: signed deliveries are posted while a server is killed with SIGKILL, on SQLite (one
//! node, restarted) and on a shared PostgreSQL (three nodes, each delivery posted to two at once, one killed).
//! Every delivery acknowledged with 200 must be in `events`, exactly once.

use messenger_test_support::{APP_SECRET as SECRET, free_port, http_client_with_timeout, pg, sign, spawn_serving};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const DELIVERIES: usize = 80;

/// Clients posting at once to the SQLite server.
const POSTERS: usize = 4;

fn start(port: u16, db: impl AsRef<std::ffi::OsStr>) -> Child {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_messenger-harness"));
    serve
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--db"])
        .arg(db)
        .env("MESSENGER_APP_SECRET", SECRET)
        .env_remove("MESSENGER_ACCESS_TOKEN");
    spawn_serving(serve, port)
}

fn delivery(i: usize) -> (String, Vec<u8>) {
    let mid = format!("crash-mid-{i:04}");
    let body = messenger_test_support::text_delivery(&mid, i, &format!("message {i}"));
    (mid, body)
}

#[test]
fn every_acknowledged_delivery_survives_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connector.db");
    let port = free_port();
    let mut server = start(port, &db);
    let acked = Arc::new(AtomicUsize::new(0));
    // Several posters at once, as Meta posts: deliveries that arrive together commit together (group commit), so
    // a kill can land with a whole group in flight.
    let posters: Vec<_> = (0..POSTERS)
        .map(|poster| {
            let acked = acked.clone();
            std::thread::spawn(move || {
                let agent = agent();
                let mut acknowledged = Vec::new();
                for i in (poster..DELIVERIES).step_by(POSTERS) {
                    let (mid, body) = delivery(i);
                    let signature = sign(SECRET, &body);
                    // As Meta does: send again until a 200 comes back.
                    while !post_once(&agent, port, &signature, &body) {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    acknowledged.push(mid);
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                acknowledged
            })
        })
        .collect();
    let mut kills = 0;
    for threshold in [20, 50] {
        while acked.load(Ordering::SeqCst) < threshold {
            std::thread::sleep(Duration::from_millis(1));
        }
        server.kill().unwrap(); // SIGKILL: no graceful anything
        server.wait().unwrap();
        kills += 1;
        server = start(port, &db);
    }
    let acknowledged: Vec<String> = posters.into_iter().flat_map(|poster| poster.join().unwrap()).collect();
    let (groups, grouped) = group_commits(port);
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!((kills, acknowledged.len()), (2, DELIVERIES));
    assert!(groups > 0.0 && grouped >= groups, "the last server committed through group commit: {groups}, {grouped}");

    let events = stored_once(&db, &acknowledged);
    eprintln!(
        "{} deliveries from {POSTERS} posters acknowledged across {kills} SIGKILLs; {events} events stored, each \
         once; the last server committed {grouped} deliveries in {groups} transactions",
        acknowledged.len()
    );
}

/// How many transactions the server's group commit made since it started, and how many deliveries they held.
fn group_commits(port: u16) -> (f64, f64) {
    let text = agent().get(format!("http://127.0.0.1:{port}/metrics")).call().unwrap().body_mut().read_to_string();
    let text = text.unwrap();
    let metric = |name: &str| -> f64 {
        let line = text.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("no {name}: {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    (metric("messenger_commit_groups "), metric("messenger_grouped_commits "))
}

/// Reads the store through `messenger-harness events` and checks each acknowledged message is there once, and no
/// message twice; gives the event count.
fn stored_once(db: impl AsRef<std::ffi::OsStr>, acknowledged: &[String]) -> usize {
    let output =
        Command::new(env!("CARGO_BIN_EXE_messenger-harness")).args(["events", "--db"]).arg(db).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    let events: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let mut copies = std::collections::HashMap::new();
    for event in events.iter().filter(|e| e["kind"] == "customer-message") {
        *copies.entry(event["message-id"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    for mid in acknowledged {
        assert_eq!(copies.get(mid), Some(&1), "{mid} is stored {:?} times", copies.get(mid));
    }
    assert!(copies.values().all(|n| *n == 1), "a message stored twice: {copies:?}");
    events.len()
}

fn agent() -> ureq::Agent {
    http_client_with_timeout(Some(Duration::from_secs(5)))
}

/// Posts `body` to `port` once; true on 200.
fn post_once(agent: &ureq::Agent, port: u16, signature: &str, body: &[u8]) -> bool {
    let answer = agent
        .post(format!("http://127.0.0.1:{port}/webhooks/instagram"))
        .header("X-Hub-Signature-256", signature)
        .send(body);
    answer.is_ok_and(|r| r.status() == 200)
}

#[test]
fn three_nodes_on_postgres_store_each_acknowledged_delivery_once_when_one_is_killed() {
    let postgres = pg::Postgres::start();
    let url = postgres.create_database("crash");
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut nodes: Vec<Child> = ports.iter().map(|port| start(*port, &url)).collect();
    let acked = Arc::new(AtomicUsize::new(0));
    let poster = {
        let (acked, ports) = (acked.clone(), ports.clone());
        std::thread::spawn(move || {
            let agent = agent();
            let mut acknowledged = Vec::new();
            for i in 0..DELIVERIES {
                let (mid, body) = delivery(i);
                let signature = sign(SECRET, &body);
                // The same delivery reaches two nodes at once (a redelivery landing elsewhere); then, as Meta
                // does, it is sent again, to the next node, until some node answers 200.
                let pair = [ports[i % 3], ports[(i + 1) % 3]];
                let mut ok = std::thread::scope(|s| {
                    let (agent, signature, body) = (&agent, &signature, &body);
                    let posts = pair.map(|port| s.spawn(move || post_once(agent, port, signature, body)));
                    posts.into_iter().any(|p| p.join().unwrap())
                });
                let mut next = i + 2;
                while !ok {
                    ok = post_once(&agent, ports[next % 3], &signature, &body);
                    next += 1;
                }
                acknowledged.push(mid);
                acked.fetch_add(1, Ordering::SeqCst);
            }
            acknowledged
        })
    };
    while acked.load(Ordering::SeqCst) < DELIVERIES / 3 {
        std::thread::sleep(Duration::from_millis(1));
    }
    nodes[0].kill().unwrap(); // SIGKILL, mid-load: its open transactions die with its connections
    nodes[0].wait().unwrap();
    let acknowledged = poster.join().unwrap();
    for node in &mut nodes[1..] {
        node.kill().unwrap();
        node.wait().unwrap();
    }
    assert_eq!(acknowledged.len(), DELIVERIES);
    let events = stored_once(&url, &acknowledged);
    eprintln!(
        "{DELIVERIES} deliveries, each posted to two of 3 nodes at once, one node killed: {events} events, each once"
    );
}
