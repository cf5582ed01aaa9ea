//! `inbound.translate` for text messages, through the real component, the real SQLite store and a fake Graph API
//! on loopback.

use messenger_core::events::{EventKind, SkipReason};
use messenger_harness::CallError;
use messenger_harness::Database;
use messenger_test_support::*;
use serde_json::json;

const RECEIVED_AT: u64 = 1_794_474_844_000;
const TEXT_MID: &str = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwOTc3NjAxMTE5NTgwMTI0NzczMzkyMTozNjcxNTgwMjgyMjQ2OTQyNTA4NTQwOTMxODY3MjQ3MjQ1NDU1MgZDZD";

#[test]
fn text_fixture_becomes_one_customer_message_with_the_graph_profile() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let events = harness.translate(&signed_delivery("text.json", RECEIVED_AT), &options()).unwrap();
    let expected = json!([{
        "account-id": "17841400000000001",
        "kind": "customer-message",
        "message-id": TEXT_MID,
        "customer-id": "1098765432100001",
        "timestamp": "2026-11-12T09:14:03.512Z",
        "text": "Hi! Is the oversized wool coat still available in beige, size M?",
        "attachments": [],
        "customer": {
            "username": "minji.kim_92",
            "name": "김민지",
            "profile-pic": "https://scontent-ssn1-1.cdninstagram.com/v/t51.2885-19/411139143_1259069085394417_4306353668856048309_n.jpg?stp=dst-jpg_s206x206_tt6&_nc_cat=108&ccb=1-7&_nc_sid=bf7eb4&_nc_ohc=AbsYa2rId2oJPG6uN98q-9j&_nc_oc=AYb7e3UAg_PWpBhNsl7pufUDzVgLkQs2NMxXeuFW&_nc_zt=24&_nc_ht=scontent-ssn1-1.cdninstagram.com&oh=00_AYH2046ZAULJoiUSktMOuXCJEnF0IWkH3pADO0LhA7fC&oe=6AFAC95B",
            "anonymous": false,
            "profile-pending": false
        }
    }]);
    assert_eq!(serde_json::to_value(&events).unwrap(), expected);
    let requests = graph.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].url, "/v23.0/1098765432100001?fields=name,username,profile_pic");
    assert_eq!(requests[0].authorization.as_deref(), Some(format!("Bearer {ACCESS_TOKEN}").as_str()));
}

#[test]
fn the_same_delivery_again_is_skipped_as_duplicate() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let first = harness.translate(&signed_delivery("text.json", RECEIVED_AT), &options()).unwrap();
    assert!(matches!(first[0].kind, EventKind::CustomerMessage(_)));
    for redelivery in ["text.json", "duplicate-delivery.json", "text.json"] {
        let again = harness.translate(&signed_delivery(redelivery, RECEIVED_AT + 61_000), &options()).unwrap();
        assert_eq!(again.len(), 1, "{redelivery}");
        let EventKind::Skipped(skipped) = &again[0].kind else { panic!("{redelivery} gave {:?}", again[0].kind) };
        assert_eq!((skipped.reason, skipped.message_id.as_deref()), (SkipReason::Duplicate, Some(TEXT_MID)));
        assert_eq!(again[0].account_id, "17841400000000001");
    }
    assert_eq!(graph.requests().len(), 1, "a duplicate asks Graph nothing");
}

#[test]
fn dedup_survives_a_new_harness_on_the_same_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connector.db");
    let graph = FakeGraph::with_profiles();
    let first = harness(Database::open(&path, 1).unwrap(), &graph)
        .translate(&signed_delivery("text.json", RECEIVED_AT), &options())
        .unwrap();
    assert!(matches!(first[0].kind, EventKind::CustomerMessage(_)));
    let again = harness(Database::open(&path, 1).unwrap(), &graph)
        .translate(&signed_delivery("text.json", RECEIVED_AT), &options())
        .unwrap();
    assert!(matches!(&again[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate));
}

#[test]
fn a_wrong_signature_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connector.db");
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::open(&path, 1).unwrap(), &graph);
    let rows_before = stored_rows(&path);
    // The published negative examples: wrong secret, last digit changed, legacy sha1, empty digest, no header.
    let wrong_headers = [
        Some("sha256=4e3ac347de48793f43c85a115c9a617748a27a38268ce8b520565a16970b428a"),
        Some("sha256=7d79ebb823d9312b318e371d226d6d3ff05180ffedc383aac33780d94ec95020"),
        Some("sha1=786219e52b9e250b70aa87c7c243e6e354aff19e"),
        Some("sha256="),
        None,
    ];
    for header in wrong_headers {
        let mut delivery = signed_delivery("text.json", RECEIVED_AT);
        delivery.headers = header.map(|h| vec![("X-Hub-Signature-256".to_owned(), h.to_owned())]).unwrap_or_default();
        match harness.translate(&delivery, &options()) {
            Err(CallError::Rejected(error)) => assert_eq!(error.code, "bad-signature", "{header:?}"),
            other => panic!("{header:?} gave {other:?}"),
        }
    }
    assert_eq!(stored_rows(&path), rows_before, "a refused delivery stores nothing");
    assert!(graph.requests().is_empty(), "a refused delivery asks Graph nothing");
    // And the message is still new afterwards: nothing was marked seen.
    let events = harness.translate(&signed_delivery("text.json", RECEIVED_AT), &options()).unwrap();
    assert!(matches!(events[0].kind, EventKind::CustomerMessage(_)));
}

#[test]
fn re_serialized_body_fails_its_signature() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let mut delivery = signed_delivery("text-korean-emoji.json", RECEIVED_AT);
    delivery.headers = vec![(
        "x-hub-signature-256".into(),
        "sha256=38798a69f08dd89cb39b5281613da39b3d30a3794256f50739d3e0fd442f289d".into(),
    )];
    assert!(
        matches!(harness.translate(&delivery, &options()), Err(CallError::Rejected(e)) if e.code == "bad-signature")
    );
}

#[test]
fn graph_failing_with_500_still_delivers_the_message_as_anonymous() {
    let graph = FakeGraph::start(|_| {
        (
            500,
            r#"{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"is_transient":true}}"#
                .into(),
        )
    });
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let events = harness.translate(&signed_delivery("text.json", RECEIVED_AT), &options()).unwrap();
    let EventKind::CustomerMessage(message) = &events[0].kind else { panic!("{:?}", events[0].kind) };
    assert_eq!(message.text.as_deref(), Some("Hi! Is the oversized wool coat still available in beige, size M?"));
    let customer = events[0].customer.as_ref().unwrap();
    assert!(customer.anonymous && customer.profile_pending);
    assert_eq!((customer.name.as_ref(), customer.username.as_ref()), (None, None));
    assert_eq!(graph.requests().len(), 1);

    // The failure was not cached: once Graph recovers, the customer's next message gets the profile.
    graph.answer_with(|_| (200, graph_fixture("profile.json")));
    let events = harness.translate(&signed_delivery("text-korean-emoji.json", RECEIVED_AT), &options()).unwrap();
    assert!(matches!(events[0].kind, EventKind::CustomerMessage(_)));
    let customer = events[0].customer.as_ref().unwrap();
    assert_eq!((customer.username.as_deref(), customer.profile_pending), (Some("minji.kim_92"), false));
}

#[test]
fn graph_unreachable_still_delivers_the_message() {
    let graph = FakeGraph::with_profiles();
    let url = graph.url();
    drop(graph); // nothing listens on that port any more
    let mut config = messenger_harness::HarnessConfig::new(Database::in_memory().unwrap());
    config.egress = messenger_harness::EgressPolicy::default().with_graph_url(&url).unwrap();
    let harness = messenger_harness::Harness::new(config).unwrap();
    harness
        .database()
        .provision(harness.namespace().clone(), messenger_core::keys::CHANNEL_ACCESS_TOKEN, b"t")
        .unwrap();
    let events = harness.translate(&signed_delivery("text.json", RECEIVED_AT), &options()).unwrap();
    assert!(matches!(&events[0].kind, EventKind::CustomerMessage(_)));
    assert!(events[0].customer.as_ref().unwrap().profile_pending);
}

#[test]
fn korean_and_emoji_text_arrives_byte_exact_from_both_encodings() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let mut texts = Vec::new();
    for name in ["text-korean-emoji.json", "text-korean-emoji-utf8.json"] {
        let events = harness.translate(&signed_delivery(name, RECEIVED_AT), &options()).unwrap();
        let EventKind::CustomerMessage(message) = &events[0].kind else { panic!("{name}: {:?}", events[0].kind) };
        texts.push(message.text.clone().unwrap());
    }
    assert_eq!(texts[0], texts[1]);
    assert_eq!((texts[0].len(), texts[0].chars().count()), (201, 76), "201 UTF-8 bytes, 76 code points");
    assert!(texts[0].contains("👨\u{200d}👩\u{200d}👧\u{200d}👦") && texts[0].contains("🏳\u{fe0f}\u{200d}🌈"));
}

#[test]
fn graph_hanging_past_the_timeout_still_delivers_the_message() {
    // A valid profile, but too late: only a working timeout leaves the profile pending.
    let graph = FakeGraph::start(|_| {
        std::thread::sleep(std::time::Duration::from_millis(3_000));
        (200, graph_fixture("profile.json"))
    });
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let events = harness.translate(&signed_delivery("text.json", RECEIVED_AT), &options()).unwrap();
    assert!(matches!(&events[0].kind, EventKind::CustomerMessage(_)));
    let customer = events[0].customer.as_ref().unwrap();
    assert!(customer.profile_pending && customer.anonymous, "{customer:?}");
}
