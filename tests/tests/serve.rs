//! The real server on a loopback port with a temporary database and a fake Graph: handshake, every fixture
//! signed and read back, bad signatures, redelivery, a reply retried after a 500, a queue surviving a restart,
//! 503 when full, and a reply taken over from a node that died mid-send.

use messenger_harness::journal;
use messenger_harness::{Database, Namespace, Outbox, ReplyStatus};
use messenger_harness::{ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const VERIFY: &str = "verify-token-1";

fn start(db: &Path, graph: &FakeGraph, tweak: impl FnOnce(&mut ServeConfig)) -> ServerHandle {
    let mut config = ServeConfig { verify_token: Some(VERIFY.into()), ..quick_serve_config() };
    tweak(&mut config);
    spawn(harness(Database::open(db, 4).unwrap(), graph), config).unwrap()
}

fn get(server: &ServerHandle, path: &str) -> (u16, String) {
    let request = http_client().get(format!("http://{}{path}", server.addr));
    let mut response = request.header(AUTH.0, AUTH.1).call().unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

fn deliver(server: &ServerHandle, fixture: &str) -> u16 {
    post(server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature_of(fixture))], &webhook(fixture)).0
}

fn stored_events(db: &Path) -> Vec<Value> {
    let database = Database::open(db, 1).unwrap();
    journal::events(&database, &messenger_harness::Namespace::new("instagram", "default").unwrap()).unwrap()
}

#[test]
fn handshake_health_and_every_fixture_stored_once() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let server = start(&db, &graph, |_| {});
    assert_eq!(
        get(&server, "/webhooks/instagram?hub.mode=subscribe&hub.verify_token=verify-token-1&hub.challenge=1158201444"),
        (200, "1158201444".into())
    );
    assert_eq!(get(&server, "/webhooks/instagram?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1").0, 403);
    assert_eq!(get(&server, "/healthz"), (200, "ok".into()));
    let fixtures = webhook_fixture_names();
    for name in &fixtures {
        assert_eq!(deliver(&server, name), 200, "{name}");
    }
    let shown = |events: &[Value]| events.iter().filter(|e| e["kind"] != "skipped").count();
    let events = stored_events(&db);
    assert_eq!(shown(&events), 29, "every event of every fixture");
    // Redelivery of everything: 200 again, nothing new stored.
    for name in &fixtures {
        assert_eq!(deliver(&server, name), 200, "{name}");
    }
    assert_eq!(stored_events(&db).len(), events.len(), "a redelivery stores no duplicate");
    // A bad signature: 401 and nothing stored.
    let (status, _) =
        post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", "sha256=00")], &webhook("text.json"));
    assert_eq!(status, 401);
    let (status, _) =
        post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature_of("text.json"))], b"{}");
    assert_eq!(status, 401, "the signature is checked before anything else");
    assert_eq!(stored_events(&db).len(), events.len());
    let big = vec![b'x'; 2 << 20];
    assert_eq!(post(&server, "/webhooks/instagram", &[], &big).0, 413, "the body cap");
    server.stop().unwrap();
}

fn reply_body() -> Vec<u8> {
    json!({"account-id": "17841400000000001", "customer-id": "1098765432100001", "author": "agent",
        "last-customer-message-at": messenger_core::time::format_rfc3339(messenger_harness::now_ms() - 60_000), "text": "Your order shipped."})
    .to_string()
    .into_bytes()
}

fn wait_for_status(server: &ServerHandle, id: u64, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = get(server, &format!("/api/messages/{id}"));
        let status: Value = serde_json::from_str(&body).unwrap();
        if status["status"] == wanted || Instant::now() > deadline {
            return status;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn a_reply_failing_with_a_500_is_queued_and_sent_on_retry() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = calls.clone();
    let graph = FakeGraph::start(move |_| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            (500, String::new())
        } else {
            (200, graph_fixture("send-ok.json"))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("c.db"), &graph, |_| {});
    let (status, body) = post(&server, "/api/messages", &[AUTH], &reply_body());
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, answer["status"].as_str()), (202, Some("queued")), "{body}");
    let done = wait_for_status(&server, answer["queued"].as_u64().unwrap(), "sent");
    assert_eq!((done["status"].as_str(), done["attempts"].as_u64()), (Some("sent"), Some(2)), "{done}");
    assert_eq!(graph.requests().len(), 2, "sent once, after one failure");
    let (status, body) = post(&server, "/api/messages", &[AUTH], br#"{"account-id":"17841400000000001"}"#);
    assert_eq!(status, 400, "{body}");
}

#[test]
fn a_reply_submitted_again_with_its_idempotency_key_is_sent_once() {
    let graph = FakeGraph::start(|_| (200, graph_fixture("send-ok.json")));
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("c.db"), &graph, |_| {});
    let key = [AUTH, ("Idempotency-Key", "reply-7f3a")];
    let (status, first) = post(&server, "/api/messages", &key, &reply_body());
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!((status, first["status"].as_str()), (200, Some("sent")), "{first}");
    // The client lost the answer and sends the same request again.
    let (status, again) = post(&server, "/api/messages", &key, &reply_body());
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!((status, &again["id"], again["status"].as_str()), (200, &first["id"], Some("sent")), "{again}");
    assert_eq!(graph.requests().len(), 1, "sent once");
    let (status, _) = post(&server, "/api/messages", &[AUTH], &reply_body());
    assert_eq!((status, graph.requests().len()), (200, 2), "without a key, a new reply");
    let (status, body) = post(&server, "/api/messages", &[AUTH, ("Idempotency-Key", "")], &reply_body());
    assert_eq!(status, 400, "{body}");
}

#[test]
fn the_retry_queue_survives_a_restart() {
    let graph = FakeGraph::start(|_| (500, String::new()));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let server = start(&db, &graph, |c| c.retry.base_delay = Duration::from_secs(3600));
    let (status, body) = post(&server, "/api/messages", &[AUTH], &reply_body());
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["queued"].as_u64().unwrap();
    server.stop().unwrap();
    // A new process on the same database, with Graph healthy again and a short backoff: the reply goes out.
    graph.answer_with(|_| (200, graph_fixture("send-ok.json")));
    let database = Database::open(&db, 1).unwrap();
    let namespace = messenger_harness::Namespace::new("instagram", "default").unwrap();
    let outbox = Outbox::new(database.clone(), namespace, "test", Duration::ZERO);
    let pending = outbox.claim(u64::MAX / 2, 10).unwrap();
    assert_eq!(pending.len(), 1, "the queued reply is on disk");
    // Make it due now (the first server had scheduled it an hour out).
    let item = &pending[0];
    assert!(outbox.settle(item, ReplyStatus::Pending, 0, &[]).unwrap());
    drop(database);
    let restarted = start(&db, &graph, |_| {});
    let done = wait_for_status(&restarted, id, "sent");
    assert_eq!(done["status"], "sent", "{done}");
}

#[test]
fn a_full_queue_answers_503_instead_of_growing() {
    let graph = FakeGraph::start(|_| {
        std::thread::sleep(Duration::from_millis(1_500));
        (500, String::new())
    });
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir.path().join("c.db"), &graph, |c| c.queue_limit = 1);
    let addr = server.addr;
    let slow = std::thread::spawn(move || {
        let mut response = http_client()
            .post(format!("http://{addr}/webhooks/instagram"))
            .header("X-Hub-Signature-256", signature_of("text.json"))
            .send(&webhook("text.json")[..])
            .unwrap();
        let _ = response.body_mut().read_to_string();
        response.status().as_u16()
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(deliver(&server, "image.json"), 503, "the one slot is busy with the slow delivery");
    assert_eq!(slow.join().unwrap(), 200, "the slow delivery still lands");
    assert_eq!(deliver(&server, "image.json"), 200, "and the slot is free again");
}

#[test]
fn the_expiry_scheduler_stores_each_owner_notice_once() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let now = messenger_harness::now_ms();
    {
        let database = Database::open(&db, 1).unwrap();
        let namespace = messenger_harness::Namespace::new("instagram", "default").unwrap();
        let record = json!({"linked_at": now - 55 * 86_400_000, "token_expires_at": now + 5 * 86_400_000, "username": "shop_a", "instagram_login": false});
        let account = "17841400000000001";
        database
            .provision(namespace.clone(), &messenger_core::keys::link_record(account), record.to_string().as_bytes())
            .unwrap();
        database.provision(namespace, messenger_core::keys::CHANNEL_ACCOUNTS, br#"["17841400000000001"]"#).unwrap();
    }
    let server = start(&db, &graph, |c| {
        c.expiry_every = Duration::from_millis(50);
        c.owners = vec!["owner-1".into(), "owner-2".into()];
        c.language = Some("ko".into());
    });
    std::thread::sleep(Duration::from_millis(500));
    server.stop().unwrap();
    let notices: Vec<Value> = stored_events(&db).into_iter().filter(|e| e["kind"] == "owner-notice").collect();
    assert_eq!(notices.len(), 1, "ten scheduler runs, one notice: {notices:?}");
    assert_eq!(
        (notices[0]["notify"].clone(), notices[0]["reason"].as_str()),
        (json!(["owner-1", "owner-2"]), Some("expiring"))
    );
    assert!(notices[0]["notice"].as_str().unwrap().contains("만료"), "in the channel's language");
}

#[test]
fn a_reply_taken_over_from_a_dead_node_is_not_sent_twice() {
    let graph = FakeGraph::start(|_| (500, String::new()));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    // A reply of two messages (over 1000 bytes), queued after its first attempt failed.
    let long = json!({"account-id": "17841400000000001", "customer-id": "1098765432100001", "author": "agent",
        "last-customer-message-at": messenger_core::time::format_rfc3339(messenger_harness::now_ms() - 60_000),
        "text": format!("{}\n\n{}", "First part. ".repeat(70), "Second part. ".repeat(20))});
    let server = start(&db, &graph, |c| c.retry.base_delay = Duration::from_secs(3600));
    let (status, body) = post(&server, "/api/messages", &[AUTH], long.to_string().as_bytes());
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["queued"].as_i64().unwrap();
    server.stop().unwrap();
    // A node claims it, marks its first message in flight, and dies before Graph answers (nothing settles it).
    let database = Database::open(&db, 1).unwrap();
    let namespace = messenger_harness::Namespace::new("instagram", "default").unwrap();
    let outbox = Outbox::new(database.clone(), namespace, "n", Duration::ZERO);
    let item = &outbox.claim(u64::MAX / 2, 1).unwrap()[0];
    assert!(outbox.settle(item, ReplyStatus::Pending, 0, &[]).unwrap());
    let now = messenger_harness::now_ms();
    let dead = Outbox::new(
        database.clone(),
        Namespace::new("instagram", "default").unwrap(),
        "dead",
        Duration::from_millis(300),
    );
    let item = &dead.claim(now, 1).unwrap()[0];
    assert_eq!(item.plan.messages.len(), 2);
    assert!(dead.mark_in_flight(item).unwrap());
    drop(database);
    // Another node takes it over once the lease runs out: the in-flight message is reported, not sent again.
    graph.answer_with(|_| (200, graph_fixture("send-ok.json")));
    let before = graph.requests().len();
    let other = start(&db, &graph, |_| {});
    let done = wait_for_status(&other, id as u64, "unknown");
    assert_eq!(done["status"], "unknown", "the rest was sent, one message may or may not have been: {done}");
    let sends = &graph.requests()[before..];
    assert_eq!(sends.len(), 1, "only the second message is sent: {sends:?}");
    assert!(sends[0].body.contains("Second part."), "{}", sends[0].body);
    assert_eq!(done["report"][0]["error"]["code"], "unknown-outcome", "{done}");
    assert_eq!(done["report"][1]["status"], "sent", "{done}");
}
