//! The inbound pipeline natively, on the public fixtures, with storage in memory and no network.

use messenger_core::events::{EventKind, SkipReason};
use messenger_core::inbound::{Delivery, TranslateOptions, translate};
use messenger_core::ports::{MemoryStorage, NoNetwork};
use messenger_core::{ConnectorError, signature};

const SECRET: &str = "fixture-app-secret";

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/webhooks/");
    std::fs::read(format!("{path}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run(body: &[u8], storage: &MemoryStorage) -> Result<Vec<messenger_core::events::InboxEvent>, ConnectorError> {
    let headers = vec![("X-Hub-Signature-256".to_owned(), signature::sign(SECRET.as_bytes(), body))];
    let delivery = Delivery { headers, body: body.to_vec(), received_at: 1_794_474_844_000 };
    translate(&delivery, &TranslateOptions { app_secret: SECRET.into(), filters: None }, storage, &NoNetwork)
}

#[test]
fn text_message_then_its_redelivery() {
    let storage = MemoryStorage::default();
    let events = run(&fixture("text.json"), &storage).unwrap();
    let EventKind::CustomerMessage(message) = &events[0].kind else { panic!("{:?}", events[0].kind) };
    assert_eq!(message.customer_id, "1098765432100001");
    let customer = events[0].customer.as_ref().unwrap();
    assert!(customer.anonymous && customer.profile_pending, "no token: pending");
    let again = run(&fixture("duplicate-delivery.json"), &storage).unwrap();
    assert!(matches!(&again[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate));
}

#[test]
fn the_published_signature_of_each_fixture_verifies() {
    let table: serde_json::Value = serde_json::from_slice(&fixture("signatures.json")).unwrap();
    for (name, header) in table.as_object().unwrap() {
        assert!(signature::is_valid(SECRET.as_bytes(), &fixture(name), header.as_str()), "{name}");
    }
}

#[test]
fn unreadable_deliveries_get_their_error_code_and_store_nothing() {
    let cases = [
        ("malformed/truncated.json", "malformed-payload"),
        ("malformed/empty.json", "malformed-payload"),
        ("malformed/invalid-utf8.json", "malformed-payload"),
        ("malformed/deep-nesting.json", "malformed-payload"),
        ("malformed/missing-entry.json", "malformed-payload"),
        ("malformed/wrong-object-page.json", "unsupported-object"),
        ("malformed/oversized-valid-2mb.json", "payload-too-large"),
        ("malformed/junk-2mb.bin", "payload-too-large"),
    ];
    for (name, code) in cases {
        let storage = MemoryStorage::default();
        assert_eq!(run(&fixture(name), &storage).map_err(|e| e.code).err().as_deref(), Some(code), "{name}");
        assert!(storage.is_empty(), "{name} stored something");
    }
}

#[test]
fn a_malformed_item_costs_only_itself() {
    let storage = MemoryStorage::default();
    for name in ["malformed/no-sender.json", "malformed/non-string-text.json", "malformed/lone-surrogate.json"] {
        let events = run(&fixture(name), &storage).unwrap();
        assert!(
            matches!(&events[..], [e] if matches!(&e.kind, EventKind::Skipped(s) if s.reason == SkipReason::MalformedItem)),
            "{name}: {events:?}"
        );
    }
}

#[test]
fn echo_of_a_message_this_connector_sent_is_skipped() {
    let storage = MemoryStorage::default();
    let body = fixture("echo-text.json");
    let mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwOTc3NjAxMTE5NTgwMTI0NzczMzkyMTozOTI5MTg1NDAwNjkwMDM4NzEzMDMyMjgzNjc2Mzk2MjMyNzE2NQZDZD";
    assert!(String::from_utf8_lossy(&body).contains(mid), "the fixture's mid");
    messenger_core::ports::Storage::set(
        &storage,
        &messenger_core::keys::seen_message(mid),
        messenger_core::keys::SEEN_SENT,
    )
    .unwrap();
    let events = run(&body, &storage).unwrap();
    assert!(matches!(&events[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::OwnSendEcho), "{events:?}");
}

#[test]
fn handover_items_say_which_app_holds_the_thread_and_standby_messages_arrive_marked() {
    let item = |key: &str, value: serde_json::Value, at: u64| {
        serde_json::json!({"sender": {"id": "1098765432100001"}, "recipient": {"id": "17841400000000001"},
            "timestamp": at, key: value})
    };
    let pass = item(
        "pass_thread_control",
        serde_json::json!({"previous_owner_app_id": 1217981644879628u64,
        "new_owner_app_id": "263902037430900", "metadata": "to the helpdesk"}),
        1,
    );
    let request = item("request_thread_control", serde_json::json!({"requested_owner_app_id": "263902037430900"}), 2);
    let take =
        item("take_thread_control", serde_json::json!({"previous_owner_app_id": "1", "new_owner_app_id": "2"}), 3);
    let standby = item("message", serde_json::json!({"mid": "m-standby", "text": "hello?"}), 4);
    let body = serde_json::json!({"object": "instagram", "entry": [
        {"id": "17841400000000001", "time": 1, "messaging": [pass], "standby": [standby]},
        {"id": "17841400000000001", "time": 1, "changes": [{"field": "messaging_handover", "value": request},
            {"field": "comments", "value": {"id": "c1"}}, {"field": "messaging_handover", "value": take}]}]});
    let storage = MemoryStorage::default();
    let events = run(body.to_string().as_bytes(), &storage).unwrap();
    let printed: Vec<serde_json::Value> = events.iter().map(|e| serde_json::to_value(e).unwrap()).collect();
    let picked = |e: &serde_json::Value| {
        let keys = [
            "kind",
            "action",
            "owner-app-id",
            "previous-owner-app-id",
            "requested-owner-app-id",
            "metadata",
            "standby",
        ];
        keys.iter().map(|k| e.get(*k).cloned().unwrap_or(serde_json::Value::Null)).collect::<Vec<_>>()
    };
    let null = serde_json::Value::Null;
    let s = |v: &str| serde_json::Value::String(v.into());
    assert_eq!(
        printed.iter().map(picked).collect::<Vec<_>>(),
        [
            vec![
                s("handover"),
                s("pass"),
                s("263902037430900"),
                s("1217981644879628"),
                null.clone(),
                s("to the helpdesk"),
                null.clone()
            ],
            vec![
                s("customer-message"),
                null.clone(),
                null.clone(),
                null.clone(),
                null.clone(),
                null.clone(),
                true.into()
            ],
            vec![
                s("handover"),
                s("request"),
                null.clone(),
                null.clone(),
                s("263902037430900"),
                null.clone(),
                null.clone()
            ],
            vec![s("handover"), s("take"), s("2"), s("1"), null.clone(), null.clone(), null.clone()],
            vec![s("skipped"), null.clone(), null.clone(), null.clone(), null.clone(), null.clone(), null.clone()],
        ],
        "a standby message is delivered, marked; handovers come as items and as changes (a comment beside them, with \
         no author, is a malformed item, after the entry's items); a request moves no owner"
    );
    assert_eq!(printed[0]["customer-id"], "1098765432100001");
    let again = run(body.to_string().as_bytes(), &storage).unwrap();
    let reasons = skip_reasons(&again);
    use SkipReason::{Duplicate, MalformedItem};
    assert_eq!(reasons, [Duplicate, Duplicate, Duplicate, Duplicate, MalformedItem], "a redelivery adds nothing");
}

#[test]
fn a_comment_without_its_author_is_malformed_and_mentions_or_unreadable_changes_are_unsupported() {
    let body = br#"{"object":"instagram","entry":[{"id":"17841400000000001","time":1,"changes":[{"field":"comments","value":{"id":"c1"}}]},{"id":"17841400000000001","time":1,"changes":"not a list"},{"id":"17841400000000001","time":1,"changes":[{"field":"mentions","value":{"media_id":"1"}}]}]}"#;
    let events = run(body, &MemoryStorage::default()).unwrap();
    let reasons = skip_reasons(&events);
    assert_eq!(reasons, [SkipReason::MalformedItem, SkipReason::Unsupported, SkipReason::Unsupported]);
}

/// The reason of each event, every one of which must be a skip.
fn skip_reasons(events: &[messenger_core::events::InboxEvent]) -> Vec<SkipReason> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Skipped(s) => s.reason,
            other => panic!("{other:?}"),
        })
        .collect()
}
