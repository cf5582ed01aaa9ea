//! Every public webhook fixture through the real component: the exact events, or the exact error code.
//!
//! The expected events live in `tests/expected/inbound/<fixture>` (reviewed against the fixtures' README).
//! `MESSENGER_BLESS=1 cargo test -p messenger-e2e --test inbound_fixtures` rewrites them after a deliberate change.

use messenger_core::events::{EventKind, InboxEvent, SkipReason};
use messenger_core::inbound::TranslateOptions;
use messenger_core::settings::Filters;
use messenger_harness::CallError;
use messenger_harness::Database;
use messenger_test_support::*;
use serde_json::Value;
use std::collections::HashSet;

const RECEIVED_AT: u64 = 1_794_477_600_000; // 2026-11-12T10:00:00Z

/// The fixtures in the order their README lists them: fed in this order, every reference points backwards.
const IN_ORDER: &[&str] = &[
    "text.json",
    "text-korean-emoji.json",
    "text-korean-emoji-utf8.json",
    "image.json",
    "video.json",
    "audio.json",
    "file.json",
    "ig-post-share.json",
    "share-legacy-dual.json",
    "ig-reel.json",
    "story-mention.json",
    "story-reply.json",
    "echo-text.json",
    "echo-image.json",
    "reply-to-message.json",
    "deleted.json",
    "unsupported.json",
    "edit.json",
    "reaction-react.json",
    "reaction-unreact.json",
    "read.json",
    "postback.json",
    "referral.json",
    "quick-reply.json",
    "ephemeral.json",
    "batch-multi-entry.json",
    "duplicate-delivery.json",
];

fn expected_path(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/expected/inbound")).join(name)
}

/// Every string in a JSON document, decoded: what an output field may legitimately be copied from.
fn strings_of(value: &Value, into: &mut HashSet<String>) {
    match value {
        Value::String(s) => {
            into.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| strings_of(v, into)),
        Value::Object(map) => map.values().for_each(|v| strings_of(v, into)),
        _ => {}
    }
}

/// Ids, texts and links in the events must be the fixture's own strings, byte for byte.
fn assert_copied_verbatim(name: &str, events: &Value) {
    let mut source = HashSet::new();
    strings_of(&serde_json::from_slice(&webhook(name)).unwrap(), &mut source);
    for event in events.as_array().unwrap() {
        let mut fields: Vec<&Value> =
            ["message-id", "customer-id", "text", "reply-to", "title", "payload"].iter().map(|k| &event[*k]).collect();
        fields.push(&event["story"]["url"]);
        for attachment in event["attachments"].as_array().into_iter().flatten() {
            fields.extend([&attachment["url"], &attachment["title"], &attachment["media-id"], &attachment["raw-type"]]);
        }
        for field in fields.into_iter().filter_map(Value::as_str) {
            assert!(source.contains(field), "{name}: {field:?} is not a string of the fixture");
        }
    }
}

#[test]
fn every_fixture_alone_gives_its_expected_events() {
    let graph = FakeGraph::with_profiles();
    for name in IN_ORDER {
        let harness = harness(Database::in_memory().unwrap(), &graph);
        let events =
            serde_json::to_value(harness.translate(&signed_delivery(name, RECEIVED_AT), &options()).unwrap()).unwrap();
        assert_copied_verbatim(name, &events);
        assert_golden(&expected_path(name), &events);
    }
}

#[test]
fn every_fixture_file_has_an_expectation() {
    let listed: HashSet<&str> = IN_ORDER.iter().copied().collect();
    for name in webhook_fixture_names() {
        assert!(listed.contains(name.as_str()), "{name} has no end-to-end expectation");
    }
}

#[test]
fn malformed_fixtures_get_their_error_code_and_store_nothing() {
    let table: Value =
        serde_json::from_slice(&std::fs::read(fixtures_dir().join("webhooks/malformed/signatures.json")).unwrap())
            .unwrap();
    let cases = [
        ("truncated.json", "malformed-payload"),
        ("empty.json", "malformed-payload"),
        ("invalid-utf8.json", "malformed-payload"),
        ("deep-nesting.json", "malformed-payload"),
        ("missing-entry.json", "malformed-payload"),
        ("wrong-object-page.json", "unsupported-object"),
        ("oversized-valid-2mb.json", "payload-too-large"),
        ("junk-2mb.bin", "payload-too-large"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    let rows = stored_rows(&path);
    for (name, code) in cases {
        let mut delivery = signed_delivery("text.json", RECEIVED_AT);
        delivery.body = std::fs::read(fixtures_dir().join("webhooks/malformed").join(name)).unwrap();
        delivery.headers = vec![("X-Hub-Signature-256".into(), table[name].as_str().unwrap().into())];
        match harness.translate(&delivery, &options()) {
            Err(CallError::Rejected(error)) => assert_eq!(error.code, code, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(stored_rows(&path), rows);
    // Malformed items inside a valid delivery: refused one by one, attributed to nobody.
    for name in ["no-sender.json", "non-string-text.json", "lone-surrogate.json"] {
        let mut delivery = signed_delivery("text.json", RECEIVED_AT);
        delivery.body = std::fs::read(fixtures_dir().join("webhooks/malformed").join(name)).unwrap();
        delivery.headers = vec![("X-Hub-Signature-256".into(), table[name].as_str().unwrap().into())];
        let events = harness.translate(&delivery, &options()).unwrap();
        assert!(
            matches!(&events[..], [e] if is_skipped(e, SkipReason::MalformedItem) && e.customer.is_none()),
            "{name}: {events:?}"
        );
    }
}

fn is_skipped(event: &InboxEvent, reason: SkipReason) -> bool {
    matches!(&event.kind, EventKind::Skipped(s) if s.reason == reason)
}

#[test]
fn all_fixtures_into_one_store_three_times_give_each_event_once() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let mut shown = 0;
    for name in IN_ORDER {
        let events = harness.translate(&signed_delivery(name, RECEIVED_AT), &options()).unwrap();
        if *name == "duplicate-delivery.json" {
            assert!(events.iter().all(|e| is_skipped(e, SkipReason::Duplicate)), "{events:?}");
        }
        shown += events.iter().filter(|e| !matches!(e.kind, EventKind::Skipped(_))).count();
    }
    assert_eq!(shown, 29, "every shown event of the fixtures, counted once");
    for round in 2..=3 {
        for name in IN_ORDER {
            let events = harness.translate(&signed_delivery(name, RECEIVED_AT + round), &options()).unwrap();
            for event in &events {
                let EventKind::Skipped(skipped) = &event.kind else {
                    panic!("round {round}, {name}: shown again: {event:?}")
                };
                assert!(
                    matches!(skipped.reason, SkipReason::Duplicate | SkipReason::Unsupported),
                    "{name}: {skipped:?}"
                );
            }
        }
    }
}

#[test]
fn stored_and_per_call_filters_skip_story_mentions_and_shares() {
    let graph = FakeGraph::with_profiles();
    let account_a = "17841400000000001";
    let shares = ["ig-post-share.json", "share-legacy-dual.json", "ig-reel.json"];
    // Stored per account: only the account's own setting counts.
    let harness_a = harness(Database::in_memory().unwrap(), &graph);
    harness_a
        .set_filters(
            "17841400000000002",
            Filters { skip_story_mentions: true, skip_shares: true, skip_comments: false },
        )
        .unwrap();
    let events = harness_a.translate(&signed_delivery("story-mention.json", RECEIVED_AT), &options()).unwrap();
    assert!(matches!(events[0].kind, EventKind::CustomerMessage(_)), "account B's filter does not apply to A");
    let harness_b = harness(Database::in_memory().unwrap(), &graph);
    harness_b
        .set_filters(account_a, Filters { skip_story_mentions: true, skip_shares: true, skip_comments: false })
        .unwrap();
    assert_eq!(
        harness_b.filters(account_a).unwrap(),
        Filters { skip_story_mentions: true, skip_shares: true, skip_comments: false }
    );
    let events = harness_b.translate(&signed_delivery("story-mention.json", RECEIVED_AT), &options()).unwrap();
    assert!(is_skipped(&events[0], SkipReason::StoryMentionFiltered) && events[0].customer.is_none(), "{events:?}");
    for name in shares {
        let events = harness_b.translate(&signed_delivery(name, RECEIVED_AT), &options()).unwrap();
        assert!(is_skipped(&events[0], SkipReason::ShareFiltered), "{name}: {events:?}");
    }
    // For one call: the flags win over what is stored, and text still arrives.
    let harness_c = harness(Database::in_memory().unwrap(), &graph);
    let only_shares = TranslateOptions {
        filters: Some(Filters { skip_story_mentions: false, skip_shares: true, skip_comments: false }),
        ..options()
    };
    let events = harness_c.translate(&signed_delivery("ig-reel.json", RECEIVED_AT), &only_shares).unwrap();
    assert!(is_skipped(&events[0], SkipReason::ShareFiltered));
    let events = harness_c.translate(&signed_delivery("story-mention.json", RECEIVED_AT), &only_shares).unwrap();
    assert!(matches!(events[0].kind, EventKind::CustomerMessage(_)));
    let events = harness_c.translate(&signed_delivery("text.json", RECEIVED_AT), &only_shares).unwrap();
    assert!(matches!(events[0].kind, EventKind::CustomerMessage(_)));
    assert_eq!(
        harness_c.filters(account_a).unwrap(),
        Filters { skip_story_mentions: false, skip_shares: false, skip_comments: false },
        "nothing stored"
    );
}

#[test]
fn echo_of_a_message_this_connector_sent_is_skipped_as_own_send() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let body: Value = serde_json::from_slice(&webhook("echo-text.json")).unwrap();
    let mid = body["entry"][0]["messaging"][0]["message"]["mid"].as_str().unwrap();
    // What outbound records for each message it sends (the shared key scheme).
    let key = messenger_core::keys::seen_message(mid);
    harness.database().provision(harness.namespace().clone(), &key, messenger_core::keys::SEEN_SENT).unwrap();
    let events = harness.translate(&signed_delivery("echo-text.json", RECEIVED_AT), &options()).unwrap();
    assert!(is_skipped(&events[0], SkipReason::OwnSendEcho), "{events:?}");
    // An echo typed in the Instagram app is shown, as the business's (bot) reply to the customer.
    let events = harness.translate(&signed_delivery("echo-image.json", RECEIVED_AT), &options()).unwrap();
    let EventKind::Echo(echo) = &events[0].kind else { panic!("{events:?}") };
    assert_eq!(echo.customer_id, "1098765432100002", "an echo's customer is its recipient");
}

#[test]
fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let query = "hub.mode=subscribe&hub.verify_token=s3cret%21&hub.challenge=1158201444";
    assert_eq!(
        harness.verify_subscription(&messenger_core::handshake::from_query(query), "s3cret!").unwrap(),
        "1158201444"
    );
    for bad in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=s3cret%21&hub.challenge=1",
        "hub.mode=subscribe&hub.verify_token=s3cret%21",
        "hub.mode=subscribe&hub.challenge=1",
    ] {
        let result = harness.verify_subscription(&messenger_core::handshake::from_query(bad), "s3cret!");
        assert!(matches!(result, Err(CallError::Rejected(e)) if e.code == "verification-failed"), "{bad}");
    }
    let empty_expected = harness.verify_subscription(&messenger_core::handshake::from_query(query), "");
    assert!(matches!(empty_expected, Err(CallError::Rejected(_))), "an unset verify token accepts nothing");
}
