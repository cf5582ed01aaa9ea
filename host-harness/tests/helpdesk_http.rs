//! The whole helpdesk integration over HTTP only, against the real binary: signed deliveries in; the feed paged
//! with `limit=1` gives every event once; a long poll wakes within 100 ms of a delivery; the push receiver gets
//! every event, signature verified, across a SIGKILL and a restart; and every `/api/*` route answers 401 without a
//! key.

use messenger_test_support::{
    API_KEY, APP_SECRET, FakeGraph, api_call, free_port, read_feed, sign, signed_item, spawn_serving,
};
use serde_json::Value;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const FORWARD_SECRET: &str = "forward-secret-for-the-helpdesk";
const ACCOUNT: &str = "17841400000000001";
const DELIVERIES: usize = 30;

fn start(port: u16, db: &std::path::Path, forward_url: &str) -> Child {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_messenger-harness"));
    serve
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--forward-url", forward_url, "--db"])
        .arg(db)
        .env("MESSENGER_APP_SECRET", APP_SECRET)
        .env("MESSENGER_API_KEYS", format!("helpdesk:{API_KEY}"))
        .env("MESSENGER_FORWARD_SECRET", FORWARD_SECRET)
        .env_remove("MESSENGER_ACCESS_TOKEN");
    spawn_serving(serve, port)
}

/// Posts delivery `i` until it is acknowledged (as Meta does).
fn deliver(addr: SocketAddr, i: usize) {
    let now = messenger_harness::now_ms();
    let (body, signature) = signed_item(ACCOUNT, "1098765432100001", now, "message", &format!("http-mid-{i:03}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = ureq::post(format!("http://{addr}/webhooks/instagram"))
            .header("X-Hub-Signature-256", &signature)
            .send(&body[..]);
        if answer.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(Instant::now() < deadline, "delivery {i} never acknowledged");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn message_ids(events: &[Value]) -> Vec<String> {
    events.iter().filter_map(|e| e["message-id"].as_str().map(str::to_owned)).collect()
}

#[test]
fn a_helpdesk_consumes_the_connector_over_http_across_a_sigkill() {
    // The helpdesk's receiver: slow enough that the kill lands mid-forward now and then.
    let receiver = FakeGraph::start(|_| {
        std::thread::sleep(Duration::from_millis(30));
        (200, "{}".into())
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connector.db");
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let forward_url = format!("{}/connector-events", receiver.url());
    let mut server = start(port, &db, &forward_url);

    // Unauthenticated calls: 401 on every route.
    for (method, path) in [
        ("GET", "/api/events"),
        ("GET", "/api/accounts"),
        ("POST", "/api/accounts/plan"),
        ("POST", "/api/accounts/select"),
        ("PUT", "/api/accounts/1/representative"),
        ("PUT", "/api/accounts/1/filters"),
        ("POST", "/api/accounts/1/refresh"),
        ("POST", "/api/messages"),
        ("GET", "/api/messages/1"),
    ] {
        for headers in [&[][..], &[("Authorization", "Bearer wrong")][..]] {
            let (status, answer) = api_call(addr, method, path, headers, b"{}");
            assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("unauthorized")), "{method} {path}");
        }
    }

    for i in 0..DELIVERIES {
        deliver(addr, i);
        if i == DELIVERIES / 2 {
            server.kill().unwrap(); // SIGKILL, while the push is busy
            server.wait().unwrap();
            server = start(port, &db, &forward_url);
        }
    }
    // A long poll, woken by the next delivery.
    let (_, next) = read_feed(addr, "", "", 100);
    let waiting = std::thread::spawn(move || {
        let answer = api_call(addr, "GET", &format!("/api/events?after={next}&wait=20"), &[auth()], b"");
        (answer, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    deliver(addr, DELIVERIES);
    let acknowledged = Instant::now();
    let ((status, page), woke) = waiting.join().unwrap();
    assert_eq!(
        (status, message_ids(page["events"].as_array().unwrap())),
        (200, vec![format!("http-mid-{DELIVERIES:03}")])
    );
    let late = woke.saturating_duration_since(acknowledged);
    assert!(late < Duration::from_millis(100), "the long poll woke {late:?} after the delivery");

    // The feed, one event a page: every delivery once.
    let (events, _) = read_feed(addr, "", "", 1);
    let expected: Vec<String> = (0..=DELIVERIES).map(|i| format!("http-mid-{i:03}")).collect();
    assert_eq!(message_ids(&events), expected, "every event once, in order");

    // The push: every event, signed, deduplicated on the cursor, through the kill.
    let deadline = Instant::now() + Duration::from_secs(40);
    let pushed = loop {
        let mut seen = HashSet::new();
        let mut pushed = Vec::new();
        for request in receiver.requests() {
            assert_eq!(request.url, "/connector-events");
            let signature = request.header("x-connector-signature-256").unwrap();
            assert_eq!(signature, sign(FORWARD_SECRET, request.body.as_bytes()), "signed with the forward secret");
            let batch: Value = serde_json::from_str(&request.body).unwrap();
            for event in batch["events"].as_array().unwrap() {
                if seen.insert(event["cursor"].as_str().unwrap().to_owned()) {
                    pushed.push(event.clone());
                }
            }
        }
        if pushed.len() >= events.len() || Instant::now() > deadline {
            break pushed;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(pushed, events, "the push delivered what the feed holds, in order");
    server.kill().unwrap();
    server.wait().unwrap();
}

fn auth() -> (&'static str, &'static str) {
    messenger_test_support::AUTH
}
