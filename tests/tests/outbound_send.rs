//! `outbound.send` through the real component against a fake Graph on loopback: request shape, echo recognition,
//! every error fixture sorted, the link marked broken, retries by the host, and the send budget.

use messenger_core::events::{EventKind, SkipReason};
use messenger_core::outbound::{Author, DeliveryStatus, Reply, Retry, SendPlan};
use messenger_harness::Database;
use messenger_harness::RetryPolicy;
use messenger_harness::{CallError, Harness};
use messenger_test_support::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const A: &str = "17841400000000001";
const C1: &str = "1098765432100001";
const NOW: u64 = 1_794_477_600_000;

fn reply(text: &str) -> Reply {
    Reply {
        account_id: A.into(),
        customer_id: C1.into(),
        now: NOW,
        author: Author::Agent,
        last_customer_message_at: NOW - 3_600_000,
        human_agent_tag: true,
        text: Some(text.into()),
        ..Default::default()
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(20) }
}

fn send_ok() -> (u16, String) {
    (200, graph_fixture("send-ok.json"))
}

fn sent_mid() -> String {
    serde_json::from_str::<Value>(&graph_fixture("send-ok.json")).unwrap()["message_id"].as_str().unwrap().to_owned()
}

fn file_harness(graph: &FakeGraph) -> (Harness, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    (harness(Database::open(&path, 1).unwrap(), graph), dir, path)
}

#[test]
fn a_reply_is_sent_as_graph_expects_and_its_echo_is_skipped() {
    let graph = FakeGraph::start(|_| send_ok());
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let plan = harness.validate_reply(&reply("Your coat ships tomorrow 🧥")).unwrap();
    let outcomes = harness.send_with_retries(&plan, &fast()).unwrap();
    assert_eq!(outcomes[0].status, DeliveryStatus::Sent(sent_mid()));
    let requests = graph.requests();
    assert_eq!(
        (requests.len(), requests[0].method.as_str(), requests[0].url.as_str()),
        (1, "POST", "/v23.0/me/messages")
    );
    assert_eq!(requests[0].authorization.as_deref(), Some(format!("Bearer {ACCESS_TOKEN}").as_str()));
    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"recipient": {"id": C1}, "message": {"text": "Your coat ships tomorrow 🧥"}, "messaging_type": "RESPONSE"})
    );
    assert!(!requests[0].url.contains(ACCESS_TOKEN), "the token travels in a header, never the URL");

    // Meta's echo of that message, by webhook: recognised as this connector's own send.
    let echo = json!({"object": "instagram", "entry": [{"time": NOW, "id": A, "messaging": [{
        "sender": {"id": A}, "recipient": {"id": C1}, "timestamp": NOW,
        "message": {"mid": sent_mid(), "text": "Your coat ships tomorrow 🧥", "is_echo": true}}]}]});
    let body = serde_json::to_vec(&echo).unwrap();
    let header = messenger_core::signature::sign(APP_SECRET.as_bytes(), &body);
    let delivery = messenger_core::inbound::Delivery {
        headers: vec![("x-hub-signature-256".into(), header)],
        body,
        received_at: NOW,
    };
    let events = harness.translate(&delivery, &options()).unwrap();
    assert!(matches!(&events[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::OwnSendEcho), "{events:?}");
}

#[test]
fn long_text_goes_out_in_order_tagged_when_past_24_hours() {
    let graph = FakeGraph::start(|_| send_ok());
    let harness = harness(Database::in_memory().unwrap(), &graph);
    // 962 + 962 + 119 bytes: each pair is over 1000, so each paragraph is its own message.
    let text = format!(
        "{}\n\n{}\n\n{}",
        "첫째 문단입니다. ".repeat(40),
        "둘째 문단입니다. ".repeat(40),
        "셋째 문단입니다. ".repeat(5).trim_end()
    );
    let late = Reply { last_customer_message_at: NOW - 2 * 86_400_000, ..reply(&text) };
    let mut with_image = late.clone();
    with_image.attachments = vec![messenger_core::outbound::OutgoingAttachment {
        url: "https://cdn.example.com/coat.png".into(),
        mime_type: "image/png".into(),
        size_bytes: 120_000,
        attachment_id: None,
    }];
    let plan = harness.validate_reply(&with_image).unwrap();
    let outcomes = harness.send_with_retries(&plan, &fast()).unwrap();
    assert!(outcomes.iter().all(|o| matches!(o.status, DeliveryStatus::Sent(_))));
    let bodies: Vec<Value> = graph.requests().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(bodies.len(), 4);
    assert!(bodies[0]["message"]["text"].as_str().unwrap().starts_with("첫째"));
    assert!(bodies[1]["message"]["text"].as_str().unwrap().starts_with("둘째"));
    assert_eq!(bodies[2]["message"]["text"], "셋째 문단입니다. ".repeat(5).trim_end());
    assert_eq!(
        bodies[3]["message"],
        json!({"attachment": {"type": "image", "payload": {"url": "https://cdn.example.com/coat.png", "is_reusable": true}}})
    );
    assert!(bodies.iter().all(|b| b["tag"] == "HUMAN_AGENT" && b["messaging_type"] == "MESSAGE_TAG"));
}

#[test]
fn every_graph_error_fixture_is_sorted_and_a_190_breaks_the_link() {
    let cases = [
        ("error-window-closed.json", "window-closed", Retry::Never, Some((10, Some(2_534_022))), false),
        ("error-token-expired.json", "token-expired", Retry::Reauthorize, Some((190, Some(463))), true),
        ("error-password-changed.json", "password-changed", Retry::Reauthorize, Some((190, Some(460))), true),
        ("error-rate-limit.json", "rate-limited", Retry::Later, Some((613, None)), false),
        ("error-rate-limit-app.json", "rate-limited", Retry::Later, Some((4, None)), false),
        ("error-user-unavailable.json", "customer-unavailable", Retry::Never, Some((551, Some(1_545_041))), false),
        ("error-user-consent.json", "consent-required", Retry::Never, Some((230, None)), false),
        ("error-message-access-off.json", "permission-missing", Retry::Reauthorize, Some((200, None)), true),
    ];
    for (fixture, code, retry, graph_code, breaks) in cases {
        let body = graph_fixture(fixture);
        let graph = FakeGraph::start(move |_| (400, body.clone()));
        let (harness, _dir, path) = file_harness(&graph);
        let plan = harness.validate_reply(&reply("hello")).unwrap();
        let status = harness.send_plan(&plan, NOW).unwrap().remove(0);
        let DeliveryStatus::Failed(failure) = status else { panic!("{fixture}: {status:?}") };
        assert_eq!((failure.error.code.as_str(), failure.retry), (code, retry), "{fixture}");
        assert_eq!(failure.graph.map(|g| (g.code, g.subcode)), graph_code, "{fixture}");
        let link_error = stored_value(&path, &format!("account/{A}/link-error"));
        assert_eq!(link_error.is_some(), breaks, "{fixture}: link marked broken = {link_error:?}");
        if let Some(record) = link_error {
            let record: Value = serde_json::from_str(&record).unwrap();
            assert_eq!((record["code"].as_i64(), record["at"].as_u64()), (Some(graph_code.unwrap().0), Some(NOW)));
        }
    }
}

#[test]
fn a_500_is_retried_by_the_host_and_then_sent() {
    let calls = std::sync::Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let graph =
        FakeGraph::start(
            move |_| if counter.fetch_add(1, Ordering::SeqCst) == 0 { (500, String::new()) } else { send_ok() },
        );
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let plan = harness.validate_reply(&reply("retry me")).unwrap();
    let outcomes = harness.send_with_retries(&plan, &fast()).unwrap();
    assert_eq!((outcomes[0].status.clone(), outcomes[0].attempts), (DeliveryStatus::Sent(sent_mid()), 2));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn later_is_retried_within_bounds_then_reported_and_never_is_not_retried() {
    let rate_limited = graph_fixture("error-rate-limit.json");
    let graph = FakeGraph::start(move |_| (400, rate_limited.clone()));
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let text = format!("{}\n\n{}", "a".repeat(900), "b".repeat(900));
    let plan = harness.validate_reply(&reply(&text)).unwrap();
    let outcomes = harness.send_with_retries(&plan, &fast()).unwrap();
    assert!(matches!(&outcomes[0].status, DeliveryStatus::Failed(f) if f.retry == Retry::Later));
    assert_eq!(
        (outcomes[0].attempts, outcomes[1].status.clone()),
        (3, DeliveryStatus::NotAttempted),
        "the rest waits, reported"
    );
    assert_eq!(graph.requests().len(), 3, "max_attempts requests, then reported");

    let closed = graph_fixture("error-window-closed.json");
    graph.answer_with(move |_| (400, closed.clone()));
    let outcomes = harness.send_with_retries(&plan, &fast()).unwrap();
    assert_eq!(outcomes[0].attempts, 1, "never is not retried");
    assert_eq!(graph.requests().len(), 4);
}

#[test]
fn the_send_budget_answers_later_instead_of_breaking_the_rate_limit() {
    let graph = FakeGraph::start(|_| send_ok());
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let plan = harness.validate_reply(&reply("x")).unwrap();
    let twenty = SendPlan { messages: vec![plan.messages[0].clone(); 20], ..plan.clone() };
    for _ in 0..5 {
        let statuses = harness.send_plan(&twenty, NOW).unwrap();
        assert!(statuses.iter().all(|s| matches!(s, DeliveryStatus::Sent(_))));
    }
    let statuses = harness.send_plan(&plan, NOW).unwrap();
    let DeliveryStatus::Failed(failure) = &statuses[0] else { panic!("{statuses:?}") };
    assert_eq!((failure.error.code.as_str(), failure.retry), ("send-budget-exhausted", Retry::Later));
    assert_eq!(graph.requests().len(), 100, "the 101st send in the same second never reached Graph");
    assert!(
        matches!(harness.send_plan(&plan, NOW + 1_000).unwrap()[0], DeliveryStatus::Sent(_)),
        "a second later it refilled"
    );
}

#[test]
fn invalid_replies_report_every_problem_and_send_nothing() {
    let graph = FakeGraph::start(|_| send_ok());
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let mut bad = Reply { author: Author::Bot, now: NOW + 9 * 86_400_000, ..reply("") };
    bad.attachments = vec![messenger_core::outbound::OutgoingAttachment {
        url: "https://cdn.example.com/a.gif".into(),
        mime_type: "image/gif".into(),
        size_bytes: 9_000_000,
        attachment_id: None,
    }];
    let Err(CallError::Invalid(errors)) = harness.validate_reply(&bad) else { panic!("accepted") };
    let codes: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["window-closed", "unsupported-image-type"]);
    assert!(graph.requests().is_empty());
}

#[test]
fn the_outbound_cli_validates_and_sends() {
    let graph = FakeGraph::start(|_| send_ok());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let database = Database::open(&db, 1).unwrap();
    let namespace = messenger_harness::Namespace::new("instagram", "default").unwrap();
    database.provision(namespace, &messenger_core::keys::access_token(A), ACCESS_TOKEN.as_bytes()).unwrap();
    drop(database);
    let request = dir.path().join("reply.json");
    let body = json!({"account-id": A, "customer-id": C1, "now": "2026-11-24T10:00:00Z", "author": "agent",
        "last-customer-message-at": "2026-11-21T09:00:00Z", "human-agent-tag": true, "text": "Hello!",
        "attachments": [{"url": "https://cdn.example.com/a.png", "mime-type": "image/png", "size-bytes": 12345}]});
    std::fs::write(&request, body.to_string()).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["messenger-harness", "outbound", "--db", db.to_str().unwrap(), "--graph-url"];
        let url = graph.url();
        args.push(&url);
        args.extend_from_slice(extra);
        args.push(request.to_str().unwrap());
        let (stdout, code) = messenger_harness::commands::run_args(args);
        (serde_json::from_str::<Value>(&stdout).unwrap(), code)
    };
    let (plan, code) = run(&[]);
    assert_eq!(code, 0);
    assert_eq!(
        plan,
        json!({"ok": true, "messages": [{"text": "Hello!"}, {"attachment": {"type": "image", "url": "https://cdn.example.com/a.png"}}],
        "tag": "HUMAN_AGENT", "window-closes-at": "2026-11-28T09:00:00.000Z"})
    );
    assert!(graph.requests().is_empty(), "without --send nothing is sent");
    let (sent, code) = run(&["--send"]);
    assert_eq!((code, &sent["sent"]), (0, &json!(true)));
    assert_eq!(sent["deliveries"][0], json!({"status": "sent", "message-id": sent_mid(), "attempts": 1}));
    assert_eq!(graph.requests().len(), 2);
    assert!(!sent.to_string().contains(ACCESS_TOKEN), "no token in the output");
}
