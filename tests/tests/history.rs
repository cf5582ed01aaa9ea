//! History on link through the real component against a fake Conversations API: a linked account's three
//! conversations come in once, in order, marked `backfill`; each customer's latest message opens their reply
//! window; a later webhook of one is a duplicate; a Graph error mid-way stops the backfill where it was and the
//! next step resumes there; a token error marks the link broken; the token probe finds a break.

use messenger_core::events::{EventKind, InboxEvent, SkipReason};
use messenger_core::history::BackfillState;
use messenger_core::inbound::Delivery;
use messenger_harness::{Database, Harness, activity};
use messenger_test_support::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const A: &str = "17841400000000001";
const NOW: u64 = 1_794_477_600_000;
const CONVERSATIONS: [&str; 3] = ["aWdfZConvOne", "aWdfZConvTwo", "aWdfZConvThree"];

/// Conversation `c`'s messages as Graph answers them: newest first, the business's reply among them.
fn messages(c: usize) -> Value {
    let customer = format!("10987654321000{:02}", 30 + c);
    let at = |minute: usize| format!("2026-11-1{c}T09:{minute:02}:00+0000");
    let from_customer = |m: usize| {
        json!({"id": format!("aWdfZMsg{c}x{m}"), "created_time": at(m),
        "from": {"id": customer, "username": format!("customer{c}")}, "to": {"data": [{"id": A}]},
        "message": format!("message {m} of conversation {c}")})
    };
    let from_business = json!({"id": format!("aWdfZMsg{c}x2"), "created_time": at(2), "from": {"id": A, "username": "shop"},
        "to": {"data": [{"id": customer, "username": format!("customer{c}")}]}, "message": "our answer"});
    json!({"id": CONVERSATIONS[c], "messages": {"data": [from_customer(3), from_business, from_customer(1)]}})
}

/// The Conversations API of account A; `fail_once` makes the second conversation's first read a Graph error.
fn conversations_api(fail_once: Arc<AtomicBool>) -> impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static {
    move |seen| {
        let path = seen.url.split('?').next().unwrap_or("");
        if path == "/v23.0/me/conversations" {
            let data: Vec<Value> = CONVERSATIONS
                .iter()
                .enumerate()
                .map(|(c, id)| json!({"id": id, "updated_time": format!("2026-11-1{c}T10:00:00+0000")}))
                .collect();
            return (200, json!({"data": data}).to_string());
        }
        match CONVERSATIONS.iter().position(|id| path == format!("/v23.0/{id}")) {
            Some(1) if fail_once.swap(false, Ordering::SeqCst) => (
                500,
                r#"{"error":{"message":"An unexpected error has occurred.","code":2,"is_transient":true}}"#.into(),
            ),
            Some(c) => (200, messages(c).to_string()),
            None => (404, r#"{"error":{"code":100}}"#.into()),
        }
    }
}

/// Steps until the backfill is no longer running; the events of every step.
fn run_steps(harness: &Harness) -> (Vec<InboxEvent>, BackfillState) {
    let mut events = Vec::new();
    for step in 0.. {
        assert!(step < 10, "a backfill of 3 conversations takes 4 steps");
        let batch = harness.backfill_step(A, NOW + step).unwrap();
        assert_eq!((batch.graph_calls, batch.next_step_after_ms), (1, 500), "one call a step, at 2 a second");
        events.extend(batch.events);
        if batch.progress.state != BackfillState::Running {
            return (events, batch.progress.state);
        }
    }
    unreachable!()
}

fn message_ids(events: &[InboxEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::CustomerMessage(m) | EventKind::Echo(m) => m.message_id.clone(),
            other => panic!("not a message: {other:?}"),
        })
        .collect()
}

fn expected_ids() -> Vec<String> {
    (0..3).flat_map(|c| (1..=3).map(move |m| format!("aWdfZMsg{c}x{m}"))).collect()
}

#[test]
fn three_conversations_come_in_once_in_order_and_a_later_webhook_is_a_duplicate() {
    let graph = FakeGraph::start(conversations_api(Arc::new(AtomicBool::new(false))));
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let started = harness.start_backfill(A, None, NOW).unwrap();
    assert_eq!(started.state, BackfillState::Running);
    let (events, state) = run_steps(&harness);
    assert_eq!(state, BackfillState::Done);
    assert_eq!(message_ids(&events), expected_ids(), "each conversation oldest first");
    assert!(events.iter().all(|e| e.backfill && e.account_id == A));
    let EventKind::Echo(answer) = &events[1].kind else { panic!("the business's message is an echo: {:?}", events[1]) };
    assert_eq!(answer.customer_id, "1098765432100030", "an echo's customer is whom it went to");
    assert_eq!(events[0].customer.as_ref().unwrap().username.as_deref(), Some("customer0"));
    let progress = harness.backfill_progress(A).unwrap().unwrap();
    assert_eq!((progress.conversations_total, progress.conversations_done, progress.messages_imported), (3, 3, 9));
    // Stored, for the feed and the push.
    let stored = messenger_harness::journal::events(harness.database(), harness.namespace()).unwrap();
    assert_eq!(stored.len(), 9);
    assert!(stored.iter().all(|e| e["backfill"] == true), "{stored:?}");
    // Each customer's latest message (minute 3 of their day) opens their reply window; the business's answer does not.
    for c in 0..3 {
        let customer = format!("10987654321000{:02}", 30 + c);
        let last = activity::last_customer_message(harness.database(), harness.namespace(), A, &customer).unwrap();
        let minute_3 = 1_794_301_380_000 + c as u64 * 86_400_000;
        assert_eq!(last, Some(minute_3), "customer {customer}'s window after the backfill");
    }

    // The same message by webhook afterwards: a duplicate, stored as nothing new.
    let body = json!({"object":"instagram","entry":[{"id":A,"time":NOW,"messaging":[{"sender":{"id":"1098765432100031"},
        "recipient":{"id":A},"timestamp":1_794_390_060_000u64,"message":{"mid":"aWdfZMsg1x1","text":"message 1 of conversation 1"}}]}]});
    let body = body.to_string().into_bytes();
    let delivery =
        Delivery { headers: vec![("X-Hub-Signature-256".into(), sign(APP_SECRET, &body))], body, received_at: NOW };
    let events = harness.translate(&delivery, &options()).unwrap();
    assert!(matches!(&events[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate), "{events:?}");
    // Running it again brings nothing new.
    harness.start_backfill(A, None, NOW + 100).unwrap();
    assert!(run_steps(&harness).0.is_empty());
}

#[test]
fn a_graph_error_mid_backfill_stops_it_there_and_the_next_step_resumes() {
    let graph = FakeGraph::start(conversations_api(Arc::new(AtomicBool::new(true))));
    let harness = harness(Database::in_memory().unwrap(), &graph);
    harness.start_backfill(A, None, NOW).unwrap();
    let (first, state) = run_steps(&harness);
    assert_eq!(state, BackfillState::Failed);
    let progress = harness.backfill_progress(A).unwrap().unwrap();
    assert_eq!((progress.conversations_done, progress.messages_imported), (1, 3));
    assert_eq!(progress.error.as_ref().map(|e| e.code.as_str()), Some("graph-unavailable"));
    let (rest, state) = run_steps(&harness);
    assert_eq!(state, BackfillState::Done);
    let all: Vec<InboxEvent> = first.into_iter().chain(rest).collect();
    assert_eq!(message_ids(&all), expected_ids(), "every message once, none lost, none twice");
    let reads: Vec<String> = graph.requests().iter().map(|r| r.url.split('?').next().unwrap().to_owned()).collect();
    let count = |path: &str| reads.iter().filter(|r| r.as_str() == path).count();
    assert_eq!(count("/v23.0/me/conversations"), 1, "the listing is not redone: {reads:?}");
    assert_eq!(count("/v23.0/aWdfZConvOne"), 1, "{reads:?}");
    assert_eq!(count("/v23.0/aWdfZConvTwo"), 2, "the failed read is tried again: {reads:?}");
}

#[test]
fn one_customer_s_conversation_fills_a_gap() {
    let graph = FakeGraph::start(conversations_api(Arc::new(AtomicBool::new(false))));
    let harness = harness(Database::in_memory().unwrap(), &graph);
    harness.start_backfill(A, Some("1098765432100031"), NOW).unwrap();
    run_steps(&harness);
    let listing = &graph.requests()[0].url;
    assert!(listing.contains("user_id=1098765432100031"), "{listing}");
}

#[test]
fn a_token_error_during_a_backfill_or_a_probe_marks_the_link_broken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let graph = FakeGraph::start(|_| {
        (400, r#"{"error":{"message":"Error validating access token","code":190,"error_subcode":460}}"#.into())
    });
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    harness.start_backfill(A, None, NOW).unwrap();
    let batch = harness.backfill_step(A, NOW + 1).unwrap();
    assert_eq!(batch.progress.state, BackfillState::Failed);
    assert_eq!(batch.progress.error.as_ref().map(|e| e.code.as_str()), Some("password-changed"));
    let recorded: Value =
        serde_json::from_str(&stored_value(&path, &format!("account/{A}/link-error")).unwrap()).unwrap();
    assert_eq!(recorded, json!({"code": 190, "subcode": 460, "at": NOW + 1}));

    let found = harness.probe_token(A, NOW + 2).unwrap().expect("the probe finds the break");
    assert_eq!((found.code, found.subcode), (190, Some(460)));
    assert_eq!(graph.requests().last().unwrap().url, "/v23.0/me?fields=id");
    graph.answer_with(|_| (200, json!({"id": A}).to_string()));
    assert_eq!(harness.probe_token(A, NOW + 3).unwrap(), None, "a working token");
}

#[test]
fn the_api_starts_a_backfill_in_the_background_and_shows_its_progress() {
    let graph = FakeGraph::start(conversations_api(Arc::new(AtomicBool::new(false))));
    let dir = tempfile::tempdir().unwrap();
    let config = messenger_harness::ServeConfig { history_pace: 0.0, ..quick_serve_config() };
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    let server = messenger_harness::serve(harness(database, &graph), config).unwrap();
    let path = format!("/api/accounts/{A}/history");
    let (status, none) = api_call(server.addr, "GET", &path, &[AUTH], b"");
    assert_eq!((status, none["error"]["code"].as_str()), (404, Some("no-backfill")), "{none}");
    let (status, refused) = api_call(server.addr, "POST", &path, &[], b"");
    assert_eq!((status, refused["error"]["code"].as_str()), (401, Some("unauthorized")), "{refused}");
    let (status, bad) = api_call(server.addr, "POST", &path, &[AUTH], br#"{"customer-id":"not an id!"}"#);
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("invalid-customer-id")), "{bad}");
    let (status, bad) = api_call(server.addr, "POST", &path, &[AUTH], b"{not json");
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("invalid-argument")), "{bad}");
    let oversized = vec![b' '; 2 << 20];
    let (status, bad) = api_call(server.addr, "POST", &path, &[AUTH], &oversized);
    assert_eq!((status, bad["error"]["code"].as_str()), (413, Some("payload-too-large")), "{bad}");
    let (status, started) = api_call(server.addr, "POST", &path, &[AUTH], b"");
    assert_eq!((status, started["state"].as_str()), (202, Some("running")), "{started}");
    // A restart at once: the account's loop (if still running) serves it, and the end is the same.
    let (status, restarted) = api_call(server.addr, "POST", &path, &[AUTH], b"");
    assert_eq!((status, restarted["state"].as_str()), (202, Some("running")), "{restarted}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let progress = loop {
        let (_, progress) = api_call(server.addr, "GET", &path, &[AUTH], b"");
        if progress["state"] != "running" || std::time::Instant::now() > deadline {
            break progress;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(
        (progress["state"].as_str(), progress["messages-imported"].as_u64()),
        (Some("done"), Some(9)),
        "{progress}"
    );
    let (_, feed) = api_call(server.addr, "GET", "/api/events?limit=100", &[AUTH], b"");
    let events = feed["events"].as_array().unwrap();
    assert_eq!(events.len(), 9, "{feed}");
    assert!(events.iter().all(|e| e["backfill"] == true), "{feed}");
    server.stop().unwrap();
}
