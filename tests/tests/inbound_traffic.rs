//! Shapes seen in real traffic beyond the docs (reference section 2), signed and fed through the component.

use messenger_core::events::{AttachmentType, EventKind, SkipReason};
use messenger_core::inbound::Delivery;
use messenger_core::signature;
use messenger_harness::Database;
use messenger_test_support::*;
use serde_json::json;

const A: &str = "17841400000000001";
const C1: &str = "1098765432100001";

fn signed(body: serde_json::Value) -> Delivery {
    let body = serde_json::to_vec(&body).unwrap();
    Delivery {
        headers: vec![("X-Hub-Signature-256".into(), signature::sign(APP_SECRET.as_bytes(), &body))],
        body,
        received_at: 1_794_477_600_000,
    }
}

fn text_item(customer: &str, mid: &str, text: &str) -> serde_json::Value {
    json!({"sender": {"id": customer}, "recipient": {"id": A}, "timestamp": 1_794_474_843_512u64, "message": {"mid": mid, "text": text}})
}

fn run(body: serde_json::Value) -> Vec<messenger_core::events::InboxEvent> {
    let graph = FakeGraph::with_profiles();
    harness(Database::in_memory().unwrap(), &graph).translate(&signed(body), &options()).unwrap()
}

#[test]
fn a_malformed_item_inside_a_batch_costs_only_itself() {
    let broken =
        json!({"sender": {"id": C1}, "recipient": {"id": A}, "timestamp": 1, "message": {"mid": "m2", "text": 12345}});
    let body = json!({"object": "instagram", "entry": [{"time": 1, "id": A, "messaging": [text_item(C1, "m1", "one"), broken, text_item(C1, "m3", "three")]}]});
    let events = run(body);
    let kinds: Vec<_> = events.iter().map(|e| &e.kind).collect();
    assert!(
        matches!(kinds[..], [EventKind::CustomerMessage(_), EventKind::Skipped(s), EventKind::CustomerMessage(_)] if s.reason == SkipReason::MalformedItem),
        "{events:?}"
    );
}

#[test]
fn standby_items_are_delivered_like_messaging_items() {
    let body = json!({"object": "instagram", "entry": [{"time": 1, "id": A, "standby": [text_item(C1, "s1", "via handover")]}]});
    let events = run(body);
    assert!(matches!(&events[0].kind, EventKind::CustomerMessage(m) if m.text.as_deref() == Some("via handover")));
}

#[test]
fn comment_entries_are_comments_and_mentions_are_skipped_per_entry_without_failing_the_delivery() {
    let comment = json!({"time": 1_794_474_843u64, "id": A, "changes": [{"field": "comments",
        "value": {"id": "1", "text": "nice", "from": {"id": C1, "username": "kim"}}}]});
    let mention =
        json!({"time": 1_794_474_843u64, "id": A, "changes": [{"field": "mentions", "value": {"media_id": "7"}}]});
    let body = json!({"object": "instagram", "entry": [comment, mention, {"time": 1, "id": A, "messaging": [text_item(C1, "c1", "hello")]}]});
    let events = run(body);
    assert!(matches!(&events[0].kind, EventKind::Comment(c) if c.timestamp == 1_794_474_843_000), "{events:?}");
    assert!(matches!(&events[1].kind, EventKind::Skipped(s) if s.reason == SkipReason::Unsupported));
    assert!(matches!(&events[2].kind, EventKind::CustomerMessage(_)));
}

#[test]
fn a_read_with_no_sender_is_still_reported_for_its_message() {
    let body = json!({"object": "instagram", "entry": [{"time": 1, "id": A, "messaging": [{"timestamp": 5, "read": {"mid": "r1"}}]}]});
    let events = run(body);
    let EventKind::Read(read) = &events[0].kind else { panic!("{events:?}") };
    assert_eq!((read.message_id.as_deref(), read.customer_id.as_ref()), (Some("r1"), None));
    assert!(events[0].customer.is_none());
}

#[test]
fn an_edit_without_text_never_blanks_the_message() {
    let item = json!({"sender": {"id": C1}, "recipient": {"id": A}, "timestamp": 5, "message_edit": {"mid": "e1", "num_edit": 0}});
    let events = run(json!({"object": "instagram", "entry": [{"time": 1, "id": A, "messaging": [item]}]}));
    let EventKind::MessageEdited(edit) = &events[0].kind else { panic!("{events:?}") };
    assert_eq!((edit.text.as_ref(), edit.edit_count), (None, Some(0)));
    let json = serde_json::to_value(&events[0]).unwrap();
    assert!(json.get("text").is_none(), "no text key at all: {json}");
}

#[test]
fn unknown_attachment_types_and_templates_are_delivered_not_dropped() {
    let story =
        json!({"type": "ig_story", "payload": {"story_media_id": "9", "story_media_url": "https://cdn.fbsbx.com/s"}});
    let future = json!({"type": "hologram", "payload": {"url": "https://cdn.fbsbx.com/h"}});
    let item = json!({"sender": {"id": C1}, "recipient": {"id": A}, "timestamp": 5, "message": {"mid": "u1", "attachments": [story, future]}});
    let template = json!({"sender": {"id": A}, "recipient": {"id": C1}, "timestamp": 6, "message": {"mid": "u2", "is_echo": true, "attachments": [{"type": "template", "payload": {"template_type": "generic"}}]}});
    let events = run(json!({"object": "instagram", "entry": [{"time": 1, "id": A, "messaging": [item, template]}]}));
    let EventKind::CustomerMessage(message) = &events[0].kind else { panic!("{events:?}") };
    let seen: Vec<_> = message.attachments.iter().map(|a| (a.kind, a.raw_type.as_str(), a.url.as_deref())).collect();
    assert_eq!(
        seen,
        [
            (AttachmentType::Unknown, "ig_story", Some("https://cdn.fbsbx.com/s")),
            (AttachmentType::Unknown, "hologram", Some("https://cdn.fbsbx.com/h"))
        ]
    );
    let EventKind::Echo(echo) = &events[1].kind else { panic!("{events:?}") };
    assert_eq!((echo.attachments[0].raw_type.as_str(), echo.attachments[0].url.as_ref()), ("template", None));
}

#[test]
fn unknown_item_kinds_are_skipped_as_unsupported() {
    // A marketing-message opt-in (`messaging_optins`): not handled. (Thread control, once the example here, has been
    // an event of its own since WIT 0.2.0.)
    let item = json!({"sender": {"id": C1}, "recipient": {"id": A}, "timestamp": 5, "optin": {"type": "notification_messages"}});
    let events = run(json!({"object": "instagram", "entry": [{"time": 1, "id": A, "messaging": [item]}]}));
    assert!(matches!(&events[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::Unsupported));
}

#[test]
fn a_customer_with_no_name_or_username_is_anonymous_but_not_pending() {
    let events = run(
        json!({"object": "instagram", "entry": [{"time": 1, "id": A, "messaging": [text_item("1098765432100009", "n1", "hi")]}]}),
    );
    let customer = events[0].customer.as_ref().unwrap();
    assert!(customer.anonymous && !customer.profile_pending, "{customer:?}");
    assert_eq!((customer.name.as_ref(), customer.username.as_ref(), customer.profile_pic.as_ref()), (None, None, None));
}

#[test]
fn ids_sent_as_numbers_are_kept_whole() {
    let item = json!({"sender": {"id": 1098765432100001u64}, "recipient": {"id": 17841400000000001u64}, "timestamp": 5, "message": {"mid": "n2", "text": "x"}});
    let events =
        run(json!({"object": "instagram", "entry": [{"time": 1, "id": 17841400000000001u64, "messaging": [item]}]}));
    assert_eq!(events[0].account_id, A);
    assert!(matches!(&events[0].kind, EventKind::CustomerMessage(m) if m.customer_id == C1));
}
