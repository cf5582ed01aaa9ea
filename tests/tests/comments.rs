//! Comments through the real component: the project's own comment fixtures (`tests/fixtures/comments`) give their
//! reviewed events, and replies to a comment against a fake Graph: a private reply goes out by `comment_id`, a
//! second one and a late one are refused before any Graph call, a public reply goes to the comment's replies.
//!
//! `MESSENGER_BLESS=1 cargo test -p messenger-e2e --test comments` rewrites the goldens after a deliberate change.

use messenger_core::events::{EventKind, SkipReason};
use messenger_core::inbound::Delivery;
use messenger_core::outbound::{DeliveryStatus, Reply, Retry};
use messenger_core::settings::Filters;
use messenger_harness::{CallError, Database, Harness};
use messenger_test_support::*;
use serde_json::{Value, json};

const A: &str = "17841400000000001";
const RECEIVED_AT: u64 = 1_794_477_600_000; // 2026-11-12T10:00:00Z
/// `top-level.json`'s entry time (seconds), in ms.
const TOP_LEVEL_AT: u64 = 1_794_475_800_000;
const TOP_LEVEL: &str = "17867301270523379";

/// Fed in this order into one store: the redelivery comes after the ad comment it repeats.
const IN_ORDER: &[&str] = &[
    "top-level.json",
    "reply.json",
    "on-reel.json",
    "on-ad.json",
    "by-business.json",
    "redelivery.json",
    "live.json",
    "no-time.json",
    "ad-started-chat.json",
    "ad-referral.json",
    "text-time-unreadable.json",
];

fn fixture(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/comments"));
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn delivery(name: &str) -> Delivery {
    signed(fixture(name))
}

fn signed(body: Vec<u8>) -> Delivery {
    Delivery { headers: vec![("X-Hub-Signature-256".into(), sign(APP_SECRET, &body))], body, received_at: RECEIVED_AT }
}

fn expected_path(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/expected/comments")).join(name)
}

#[test]
fn every_comment_fixture_in_order_gives_its_reviewed_events() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    for name in IN_ORDER {
        let events = serde_json::to_value(harness.translate(&delivery(name), &options()).unwrap()).unwrap();
        assert_golden(&expected_path(name), &events);
    }
    // A comment never asks Graph for a profile (the commenter may not have consented): only the DMs did.
    assert!(graph.requests().iter().all(|r| !r.url.contains("1098765432100011")), "{:?}", graph.requests());
}

#[test]
fn the_account_filter_skips_comments_but_names_the_commenter() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    harness.set_filters(A, Filters { skip_comments: true, ..Filters::default() }).unwrap();
    let events = harness.translate(&delivery("top-level.json"), &options()).unwrap();
    let EventKind::Skipped(skipped) = &events[0].kind else { panic!("{events:?}") };
    assert_eq!(skipped.reason, SkipReason::CommentFiltered);
    assert_eq!(skipped.customer_id.as_deref(), Some("1098765432100011"));
}

/// A fake Graph that answers a send with a message id, a public reply with a comment id.
fn graph_for_replies() -> FakeGraph {
    FakeGraph::start(|seen| match seen.url.as_str() {
        "/v23.0/me/messages" => {
            (200, json!({"recipient_id": "1098765432100011", "message_id": "aWdfZAPrivate1"}).to_string())
        }
        url if url.ends_with("/replies") => (200, json!({"id": "17867301270529999"}).to_string()),
        _ => (404, r#"{"error":{"code":100}}"#.into()),
    })
}

fn comment_reply(comment_id: &str, now: u64, public: bool) -> Reply {
    Reply {
        account_id: A.into(),
        now,
        text: Some("Thanks! Here is the link.".into()),
        comment_id: Some(comment_id.into()),
        public_reply: public,
        ..Default::default()
    }
}

fn codes_of(result: Result<messenger_core::outbound::SendPlan, CallError>) -> Vec<String> {
    match result {
        Err(CallError::Invalid(errors)) => errors.into_iter().map(|e| e.code).collect(),
        other => panic!("expected a refusal: {other:?}"),
    }
}

/// Sends a one-message plan that must fail: its code and retry.
fn send_failure(harness: &Harness, plan: &messenger_core::outbound::SendPlan, now: u64) -> (String, Retry) {
    let statuses = harness.send_plan(plan, now).unwrap();
    let [DeliveryStatus::Failed(failure)] = &statuses[..] else { panic!("{statuses:?}") };
    (failure.error.code.clone(), failure.retry)
}

fn delivered(harness: &Harness, names: &[&str]) {
    for name in names {
        harness.translate(&delivery(name), &options()).unwrap();
    }
}

#[test]
fn a_private_reply_goes_by_comment_id_once_and_a_second_is_refused_without_a_graph_call() {
    let graph = graph_for_replies();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    delivered(&harness, &["top-level.json"]);
    let plan = harness.validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + 3_600_000, false)).unwrap();
    assert_eq!(plan.customer_id, "1098765432100011", "the stored comment names whom the reply reaches");
    let statuses = harness.send_plan(&plan, TOP_LEVEL_AT + 3_600_000).unwrap();
    assert_eq!(statuses, vec![DeliveryStatus::Sent("aWdfZAPrivate1".into())]);
    let sent = graph.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].method.as_str(), sent[0].url.as_str()), ("POST", "/v23.0/me/messages"));
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body, json!({"recipient": {"comment_id": TOP_LEVEL}, "message": {"text": "Thanks! Here is the link."}}));

    // A second one: refused when validated, and refused again if a plan is sent anyway; Graph never hears of it.
    let again = harness.validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + 7_200_000, false));
    assert_eq!(codes_of(again), ["comment-reply-used"]);
    assert_eq!(send_failure(&harness, &plan, TOP_LEVEL_AT + 7_200_000), ("comment-reply-used".into(), Retry::Never));
    assert_eq!(graph.requests().len(), 1, "no second Graph call");
    // The echo of the private reply is this connector's own.
    let echo = json!({"object":"instagram","entry":[{"id":A,"time":1,"messaging":[{"sender":{"id":A},
        "recipient":{"id":"1098765432100011"},"timestamp":TOP_LEVEL_AT + 3_600_500,
        "message":{"mid":"aWdfZAPrivate1","text":"Thanks! Here is the link.","is_echo":true}}]}]});
    let events = harness.translate(&signed(echo.to_string().into_bytes()), &options()).unwrap();
    assert!(matches!(&events[0].kind, EventKind::Skipped(s) if s.reason == SkipReason::OwnSendEcho), "{events:?}");
}

#[test]
fn a_private_reply_after_seven_days_is_refused_without_a_graph_call() {
    let graph = graph_for_replies();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    delivered(&harness, &["top-level.json"]);
    let seven_days = 7 * 24 * 3_600_000;
    let just_in_time = harness.validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + seven_days - 1, false)).unwrap();
    let late = TOP_LEVEL_AT + seven_days;
    assert_eq!(codes_of(harness.validate_reply(&comment_reply(TOP_LEVEL, late, false))), ["comment-reply-expired"]);
    // A plan validated in time but sent late (a retry queue) is refused at the send, before Graph.
    assert_eq!(send_failure(&harness, &just_in_time, late), ("comment-reply-expired".into(), Retry::Never));
    assert!(graph.requests().is_empty(), "Graph never called: {:?}", graph.requests());
}

#[test]
fn refusals_name_every_problem_and_unknown_comments_are_refused() {
    let graph = graph_for_replies();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let unknown = harness.validate_reply(&comment_reply("17867301270599999", TOP_LEVEL_AT, false));
    assert_eq!(codes_of(unknown), ["unknown-comment"]);
    delivered(&harness, &["top-level.json"]);
    let with_card = Reply {
        text: None,
        sender_action: Some(messenger_core::outbound::SenderAction::TypingOn),
        ..comment_reply(TOP_LEVEL, TOP_LEVEL_AT, false)
    };
    assert_eq!(codes_of(harness.validate_reply(&with_card)), ["empty-message", "comment-reply-text-only"]);
    assert!(graph.requests().is_empty());
}

#[test]
fn a_public_reply_goes_under_the_comment_and_leaves_the_private_one_open() {
    let graph = graph_for_replies();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    delivered(&harness, &["top-level.json"]);
    let plan = harness.validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + 60_000, true)).unwrap();
    let statuses = harness.send_plan(&plan, TOP_LEVEL_AT + 60_000).unwrap();
    assert_eq!(statuses, vec![DeliveryStatus::Sent("17867301270529999".into())]);
    let sent = graph.requests();
    assert_eq!(sent[0].url, format!("/v23.0/{TOP_LEVEL}/replies"));
    assert_eq!(serde_json::from_str::<Value>(&sent[0].body).unwrap(), json!({"message": "Thanks! Here is the link."}));
    harness
        .validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + 120_000, false))
        .expect("the private reply is still open");
}

#[test]
fn meta_saying_the_comment_was_answered_closes_it() {
    let graph =
        FakeGraph::start(|_| (400, r#"{"error":{"message":"Activity already replied to","code":10900}}"#.into()));
    let harness = harness(Database::in_memory().unwrap(), &graph);
    delivered(&harness, &["top-level.json"]);
    let plan = harness.validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + 60_000, false)).unwrap();
    let statuses = harness.send_plan(&plan, TOP_LEVEL_AT + 60_000).unwrap();
    assert!(matches!(&statuses[..], [DeliveryStatus::Failed(f)] if f.retry == Retry::Never), "{statuses:?}");
    let again = harness.validate_reply(&comment_reply(TOP_LEVEL, TOP_LEVEL_AT + 120_000, false));
    assert_eq!(codes_of(again), ["comment-reply-used"]);
}
