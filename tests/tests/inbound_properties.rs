//! Generated well-formed deliveries: every item gives exactly one event, in order, attributed to its entry, with
//! its text byte-exact; the same delivery again shows nothing twice. Native core and the real component alike.

use messenger_core::events::{EventKind, InboxEvent};
use messenger_core::inbound::{Delivery, translate};
use messenger_core::ports::{MemoryStorage, NoNetwork};
use messenger_core::signature;
use messenger_harness::Database;
use messenger_test_support::generate::{self, Expected, Generated};
use messenger_test_support::{APP_SECRET, FakeGraph, harness, options};
use proptest::prelude::*;

fn summary(event: &InboxEvent) -> Expected {
    let (kind, message_id, text) = match &event.kind {
        EventKind::CustomerMessage(m) => ("customer-message", Some(m.message_id.clone()), m.text.clone()),
        EventKind::Echo(m) => ("echo", Some(m.message_id.clone()), m.text.clone()),
        EventKind::Reaction(r) => ("reaction", Some(r.message_id.clone()), None),
        EventKind::MessageDeleted(m) => ("message-deleted", Some(m.message_id.clone()), None),
        EventKind::MessageEdited(e) => ("message-edited", Some(e.message_id.clone()), e.text.clone()),
        EventKind::Read(r) => ("read", r.message_id.clone(), None),
        EventKind::Postback(p) => ("postback", p.message_id.clone(), None),
        EventKind::Referral(_) => ("referral", None, None),
        EventKind::Skipped(s) => ("skipped", s.message_id.clone(), None),
        EventKind::Handover(_) => ("handover", None, None),
        EventKind::Comment(c) => ("comment", Some(c.comment_id.clone()), c.text.clone()),
    };
    Expected { account_id: event.account_id.clone(), kind, message_id, text, standby: event.standby }
}

/// Translates one signed body (headers, body) into events.
type Translate<'a> = dyn FnMut(&[(String, String)], &[u8]) -> Vec<InboxEvent> + 'a;

fn check(generated: &Generated, run: &mut Translate<'_>) {
    let headers = vec![("X-Hub-Signature-256".to_owned(), signature::sign(APP_SECRET.as_bytes(), &generated.body))];
    let first: Vec<Expected> = run(&headers, &generated.body).iter().map(summary).collect();
    assert_eq!(first, generated.expected);
    let again = run(&headers, &generated.body);
    assert_eq!(again.len(), generated.expected.len());
    assert!(again.iter().all(|e| summary(e).kind == "skipped"), "shown twice: {again:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn native_core_gives_each_item_once_in_order(generated in generate::delivery()) {
        let storage = MemoryStorage::default();
        check(&generated, &mut |headers, body| {
            let delivery = Delivery { headers: headers.to_vec(), body: body.to_vec(), received_at: 1_794_477_600_000 };
            translate(&delivery, &options(), &storage, &NoNetwork).unwrap()
        });
    }
}

#[test]
fn the_component_gives_each_item_once_in_order() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 48, ..ProptestConfig::default() });
    runner
        .run(&generate::delivery(), |generated| {
            check(&generated, &mut |headers, body| {
                let delivery = messenger_core::inbound::Delivery {
                    headers: headers.to_vec(),
                    body: body.to_vec(),
                    received_at: 1_794_477_600_000,
                };
                harness.translate(&delivery, &messenger_test_support::options()).unwrap()
            });
            Ok(())
        })
        .unwrap();
}

#[test]
fn meta_escaping_round_trips() {
    let text = "a/b \"q\" 🙏🏻 👨\u{200d}👩 한글 \u{1}";
    let escaped = generate::escape_like_meta(&serde_json::to_string(text).unwrap());
    assert!(escaped.is_ascii() && escaped.contains("\\/") && escaped.contains("\\ud83d"));
    assert_eq!(serde_json::from_str::<String>(&escaped).unwrap(), text);
}

/// Bodies that are not deliveries (random bytes, fixtures cut or with bytes flipped), correctly signed so that
/// they reach the parser: each is translated or refused with a typed error, never a trap.
#[test]
fn hostile_bodies_are_refused_never_a_fault() {
    let graph = FakeGraph::with_profiles();
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let fixtures: Vec<Vec<u8>> = ["text.json", "batch-multi-entry.json", "story-reply.json", "reaction-react.json"]
        .iter()
        .map(|name| messenger_test_support::webhook(name))
        .collect();
    let mutated = (
        0..fixtures.len(),
        any::<usize>(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        any::<bool>(),
    )
        .prop_map(move |(which, cut, flips, truncate)| {
            let mut body = fixtures[which].clone();
            for (at, byte) in flips {
                let len = body.len();
                body[at % len] = byte;
            }
            if truncate {
                body.truncate(cut % (body.len() + 1));
            }
            body
        });
    let bodies = prop_oneof![proptest::collection::vec(any::<u8>(), 0..512), mutated];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 256, ..ProptestConfig::default() });
    runner
        .run(&bodies, |body| {
            let headers = vec![("X-Hub-Signature-256".to_owned(), signature::sign(APP_SECRET.as_bytes(), &body))];
            let delivery = messenger_core::inbound::Delivery { headers, body, received_at: 1_794_477_600_000 };
            match harness.translate(&delivery, &messenger_test_support::options()) {
                Ok(_) | Err(messenger_harness::CallError::Rejected(_)) => Ok(()),
                Err(other) => Err(TestCaseError::fail(format!("{other:?}"))),
            }
        })
        .unwrap();
}
