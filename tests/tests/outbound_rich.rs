//! Every kind beyond text and attachments through the real component, against the fake Graph: the exact Graph
//! request of each (reviewed goldens in `tests/expected/graph/`; `MESSENGER_BLESS=1` rewrites them after a
//! deliberate change), what the send report says, the budget of sender actions, media reused by the id a send
//! returned, ice breakers and the menu through the CLI, a mark-seen through `POST /api/messages`, and handover and
//! standby events.

use messenger_core::events::EventKind;
use messenger_core::outbound::{
    DeliveryStatus, MediaType, OutgoingAttachment, PlannedMessage, Reply, Retry, SENDER_ACTIONS_PER_SECOND, SendPlan,
    SentAttachment, parse_request,
};
use messenger_harness::Database;
use messenger_test_support::*;
use serde_json::{Value, json};
use std::path::PathBuf;

const A: &str = "17841400000000001";
const C1: &str = "1098765432100001";
const NOW: u64 = 1_794_477_600_000; // 2026-11-12T10:00:00Z

fn golden(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/expected/graph")).join(format!("{name}.json"))
}

/// A REQUEST (DESIGN.md's JSON) from an agent, an hour after the customer wrote, with `extra` keys.
fn request(extra: Value) -> Reply {
    let mut request = json!({"account-id": A, "customer-id": C1, "now": "2026-11-12T10:00:00Z", "author": "agent",
        "last-customer-message-at": "2026-11-12T09:00:00Z", "human-agent-tag": true});
    request.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    parse_request(request.to_string().as_bytes(), NOW).unwrap()
}

/// Validates and sends `reply` through the component: its statuses, and the Graph requests as goldens hold them.
fn sent(reply: &Reply) -> (Vec<DeliveryStatus>, Value) {
    let graph = FakeGraph::messaging();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let plan = harness.validate_reply(reply).unwrap();
    let statuses = harness.send_plan(&plan, NOW).unwrap();
    (statuses, graph.requests().iter().map(Seen::as_golden).collect())
}

fn sent_mid() -> String {
    serde_json::from_str::<Value>(&graph_fixture("send-ok.json")).unwrap()["message_id"].as_str().unwrap().to_owned()
}

#[test]
fn every_kind_sends_the_exact_graph_request_meta_documents() {
    let message = DeliveryStatus::Sent(sent_mid());
    let kept = DeliveryStatus::SentAttachment(SentAttachment {
        message_id: sent_mid(),
        attachment_id: REUSABLE_ATTACHMENT_ID.into(),
    });
    let cases = [
        (
            "text-with-quick-replies",
            json!({"text": "Where should we send it?", "quick-replies": [
            {"title": "Home", "payload": "ADDRESS_HOME"}, {"title": "회사", "payload": "ADDRESS_WORK"}]}),
            vec![message.clone()],
        ),
        (
            "cards",
            json!({"last-customer-message-at": "2026-11-10T09:00:00Z", "cards": [
            {"title": "Oversized wool coat", "subtitle": "Beige, size M", "image-url": "https://cdn.example.com/coat.png",
             "default-url": "https://shop.example.com/coat", "buttons": [
                {"type": "web-url", "title": "View", "url": "https://shop.example.com/coat"},
                {"type": "postback", "title": "Reserve", "payload": "RESERVE_COAT"}]},
            {"title": "Cashmere scarf", "image-url": "https://cdn.example.com/scarf.png"}]}),
            vec![message.clone()],
        ),
        (
            "attachment-by-link",
            json!({"attachments": [
            {"url": "https://cdn.example.com/coat.png", "mime-type": "image/png", "size-bytes": 120000}]}),
            vec![kept],
        ),
        (
            "attachment-by-id",
            json!({"attachments": [
            {"attachment-id": REUSABLE_ATTACHMENT_ID, "mime-type": "video/mp4"}]}),
            vec![message.clone()],
        ),
        ("typing-on", json!({"sender-action": "typing-on"}), vec![DeliveryStatus::Done]),
        ("typing-off", json!({"sender-action": "typing-off"}), vec![DeliveryStatus::Done]),
        (
            "mark-seen",
            json!({"sender-action": "mark-seen", "author": "bot", "last-customer-message-at": "2026-11-09T10:00:00Z"}),
            vec![DeliveryStatus::Done],
        ),
        (
            "react",
            json!({"reaction": {"message-id": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE", "emoji": "❤️"}}),
            vec![DeliveryStatus::Done],
        ),
        (
            "unreact",
            json!({"reaction": {"message-id": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE", "remove": true}}),
            vec![DeliveryStatus::Done],
        ),
        (
            "pass-thread-control",
            json!({"thread-control": {"action": "pass", "target-app-id": "1217981644879628",
            "metadata": "the bot hands over to a person"}}),
            vec![DeliveryStatus::Done],
        ),
        ("take-thread-control", json!({"thread-control": {"action": "take"}}), vec![DeliveryStatus::Done]),
        (
            "request-thread-control",
            json!({"thread-control": {"action": "request", "metadata": "a customer asked for a person"}}),
            vec![DeliveryStatus::Done],
        ),
    ];
    for (name, extra, statuses) in cases {
        let (got, requests) = sent(&request(extra));
        assert_eq!(got, statuses, "{name}");
        assert_golden(&golden(name), &requests);
        for request in requests.as_array().unwrap() {
            assert!(!request.to_string().contains(ACCESS_TOKEN), "{name}: the token travels in a header only");
        }
    }
}

#[test]
fn media_sent_by_link_is_sent_again_by_the_id_its_report_gave() {
    let graph = FakeGraph::messaging();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let image = OutgoingAttachment {
        url: "https://cdn.example.com/coat.png".into(),
        mime_type: "image/png".into(),
        size_bytes: 120_000,
        attachment_id: None,
    };
    let first = Reply { attachments: vec![image], ..request(json!({})) };
    let report = harness.send_with_retries(&harness.validate_reply(&first).unwrap(), &Default::default()).unwrap();
    let DeliveryStatus::SentAttachment(kept) = &report[0].status else { panic!("{report:?}") };
    assert_eq!(
        serde_json::to_value(&report[0]).unwrap()["attachment-id"],
        REUSABLE_ATTACHMENT_ID,
        "the report returns the id"
    );
    let again = OutgoingAttachment {
        mime_type: "image/png".into(),
        attachment_id: Some(kept.attachment_id.clone()),
        ..Default::default()
    };
    let plan = harness.validate_reply(&Reply { attachments: vec![again], ..request(json!({})) }).unwrap();
    assert!(matches!(&plan.messages[..], [PlannedMessage::ReusedAttachment(r)] if r.kind == MediaType::Image));
    assert_eq!(harness.send_plan(&plan, NOW).unwrap(), [DeliveryStatus::Sent(sent_mid())]);
    let bodies: Vec<Value> = graph.requests().iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    assert_eq!(
        bodies[1]["message"]["attachment"]["payload"],
        json!({"attachment_id": REUSABLE_ATTACHMENT_ID}),
        "no new download"
    );
}

#[test]
fn sender_actions_have_their_own_budget_and_never_hold_a_reply_back() {
    let graph = FakeGraph::messaging();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let typing = harness.validate_reply(&request(json!({"sender-action": "typing-on"}))).unwrap();
    let burst =
        SendPlan { messages: vec![typing.messages[0].clone(); SENDER_ACTIONS_PER_SECOND as usize], ..typing.clone() };
    assert!(harness.send_plan(&burst, NOW).unwrap().iter().all(DeliveryStatus::succeeded));
    let DeliveryStatus::Failed(spent) = &harness.send_plan(&typing, NOW).unwrap()[0] else { panic!("over budget") };
    assert_eq!((spent.error.code.as_str(), spent.retry), ("send-budget-exhausted", Retry::Later));
    let text = harness.validate_reply(&request(json!({"text": "Here it is"}))).unwrap();
    assert!(harness.send_plan(&text, NOW).unwrap()[0].succeeded(), "text has a budget of its own");
}

#[test]
fn a_refused_action_is_sorted_like_any_send() {
    let graph = FakeGraph::start(|_| (400, graph_fixture("error-window-closed.json")));
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let plan = harness.validate_reply(&request(json!({"reaction": {"message-id": "m1", "emoji": "👍"}}))).unwrap();
    let DeliveryStatus::Failed(failure) = &harness.send_plan(&plan, NOW).unwrap()[0] else { panic!("sent") };
    assert_eq!((failure.error.code.as_str(), failure.retry), ("window-closed", Retry::Never));
}

/// Runs the CLI in process with `args` against `graph`, on the database at `db`.
fn cli(db: &std::path::Path, graph: &FakeGraph, args: &[&str]) -> (Value, u8) {
    let url = graph.url();
    run_cli(&[&["--db", db.to_str().unwrap(), "--graph-url", &url], args].concat())
}

#[test]
fn ice_breakers_and_the_menu_are_set_read_and_deleted_through_the_cli() {
    let graph = FakeGraph::messaging();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let namespace = messenger_harness::Namespace::new("instagram", "default").unwrap();
    Database::open(&db, 1)
        .unwrap()
        .provision(namespace, &messenger_core::keys::access_token(A), ACCESS_TOKEN.as_bytes())
        .unwrap();
    let ice_breakers = json!([{"locale": "default", "questions": [{"question": "Where is my order?", "payload": "ORDER"}]},
        {"locale": "ko_KR", "questions": [{"question": "주문은 어디에 있나요?", "payload": "ORDER"}]}]);
    let menu = json!([{"locale": "default", "items": [{"type": "postback", "title": "Talk to an agent", "payload": "AGENT"},
        {"type": "web-url", "title": "Shop", "url": "https://shop.example.com/"}]}]);
    let file = |name: &str, value: &Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, value.to_string()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (ice_file, menu_file) = (file("ice.json", &ice_breakers), file("menu.json", &menu));
    let (set, code) = cli(&db, &graph, &["profile", "set", "ice-breakers", "--account", A, &ice_file]);
    assert_eq!((code, set), (0, json!({"ok": true, "account-id": A, "ice-breakers": ice_breakers})));
    assert_eq!(cli(&db, &graph, &["profile", "set", "persistent-menu", "--account", A, &menu_file]).1, 0);
    let (read, code) = cli(&db, &graph, &["profile", "get", "ice-breakers", "--account", A]);
    assert_eq!((code, &read["ice-breakers"]), (0, &ice_breakers), "read back as set");
    assert_eq!(cli(&db, &graph, &["profile", "get", "persistent-menu", "--account", A]).0["persistent-menu"], menu);
    let (deleted, code) = cli(&db, &graph, &["profile", "delete", "ice-breakers", "--account", A]);
    assert_eq!((code, deleted), (0, json!({"ok": true, "account-id": A, "deleted": "ice-breakers"})));
    assert_eq!(cli(&db, &graph, &["profile", "get", "ice-breakers", "--account", A]).0["ice-breakers"], json!([]));
    let requests: Value = graph.requests().iter().map(Seen::as_golden).collect();
    assert_golden(&golden("messenger-profile"), &requests);

    let blank = vec![json!({"question": "", "payload": "P"}); 5];
    let bad = file("bad.json", &json!([{"locale": "ko_KR", "questions": blank}]));
    let (invalid, code) = cli(&db, &graph, &["profile", "set", "ice-breakers", "--account", A, &bad]);
    let codes: Vec<&str> = invalid["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(code, 1);
    assert_eq!(
        codes,
        [
            "missing-default-locale",
            "too-many-ice-breakers",
            "missing-question",
            "missing-question",
            "missing-question",
            "missing-question",
            "missing-question"
        ]
    );
    assert_eq!(graph.requests().len(), requests.as_array().unwrap().len(), "nothing invalid reaches Graph");
}

#[test]
fn serve_marks_a_conversation_seen_through_the_reply_api() {
    let graph = FakeGraph::messaging();
    let dir = tempfile::tempdir().unwrap();
    let server = messenger_harness::serve(
        harness(Database::open(&dir.path().join("c.db"), 4).unwrap(), &graph),
        quick_serve_config(),
    )
    .unwrap();
    // No `now`: the server's clock decides, so the customer wrote an hour before it.
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let written = messenger_core::time::format_rfc3339(wall - 3_600_000);
    let seen = json!({"account-id": A, "customer-id": C1, "author": "agent", "sender-action": "mark-seen",
        "last-customer-message-at": written});
    let (status, body) = post(&server, "/api/messages", &[AUTH], seen.to_string().as_bytes());
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, &answer["ok"], &answer["status"]), (200, &json!(true), &json!("sent")), "{answer}");
    assert_eq!(answer["deliveries"], json!([{"status": "done", "attempts": 1}]));
    let request = graph.requests()[0].as_golden();
    assert_eq!(request["body"], json!({"recipient": {"id": C1}, "sender_action": "mark_seen"}));
    let (status, body) =
        post(&server, "/api/messages", &[AUTH], seen.to_string().replace("mark-seen", "seen").as_bytes());
    assert_eq!(status, 400, "{body}");
}

#[test]
fn handover_and_standby_webhooks_become_events_through_the_component() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let item = |key: &str, value: Value| json!({"sender": {"id": C1}, "recipient": {"id": A}, "timestamp": 1_794_474_843_512u64, key: value});
    let body = json!({"object": "instagram", "entry": [{"id": A, "time": 1,
        "messaging": [item("pass_thread_control", json!({"previous_owner_app_id": "263902037430900", "new_owner_app_id": "1217981644879628", "metadata": "bot done"}))],
        "standby": [item("message", json!({"mid": "m-standby-1", "text": "Is anyone there?"}))]}]});
    let body = serde_json::to_vec(&body).unwrap();
    let delivery = messenger_core::inbound::Delivery {
        headers: vec![("X-Hub-Signature-256".into(), sign(APP_SECRET, &body))],
        body,
        received_at: NOW,
    };
    let events = harness.translate(&delivery, &options()).unwrap();
    let EventKind::Handover(handover) = &events[0].kind else { panic!("{events:?}") };
    assert_eq!((handover.owner_app_id.as_deref(), events[0].standby), (Some("1217981644879628"), false));
    assert!(matches!(&events[1].kind, EventKind::CustomerMessage(m) if m.text.as_deref() == Some("Is anyone there?")));
    assert!(events[1].standby, "a standby message is delivered, marked");
    let printed = serde_json::to_value(&events).unwrap();
    assert_eq!(printed[0]["kind"], "handover");
    assert_eq!(
        (printed[0].get("standby"), &printed[1]["standby"]),
        (None, &json!(true)),
        "standby is printed only when true"
    );
    assert_eq!(printed[0]["customer"]["username"], "minji.kim_92", "the customer's profile, as for any event");
}
