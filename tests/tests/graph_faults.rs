//! Graph failing in every way a network can: refusing connections, 500, 429, hanging past the timeout. Inbound
//! still delivers every message (profile pending) exactly once; outbound sorts each failure as `later`, retries
//! within bounds and reports it. Nothing lost, nothing twice.

use messenger_core::events::EventKind;
use messenger_core::outbound::{Author, DeliveryStatus, Reply, Retry};
use messenger_harness::Database;
use messenger_harness::EgressPolicy;
use messenger_harness::RetryPolicy;
use messenger_harness::{Harness, HarnessConfig};
use messenger_test_support::*;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Refuse,
    ServerError,
    TooManyRequests,
    Hang,
}

fn faulty_harness(fault: Fault) -> (Harness, Option<FakeGraph>) {
    let graph = match fault {
        Fault::Refuse => None,
        Fault::ServerError => Some(FakeGraph::start(|_| (500, String::new()))),
        Fault::TooManyRequests => Some(FakeGraph::start(|_| (429, String::new()))),
        Fault::Hang => Some(FakeGraph::start(|_| {
            std::thread::sleep(Duration::from_millis(600));
            (200, graph_fixture("send-ok.json"))
        })),
    };
    // Refused: a port where nothing listens any more.
    let url = graph.as_ref().map_or_else(|| FakeGraph::start(|_| (200, String::new())).url(), FakeGraph::url);
    let mut config = HarnessConfig::new(Database::in_memory().unwrap());
    config.egress = EgressPolicy { max_timeout: Duration::from_millis(300), ..EgressPolicy::default() }
        .with_graph_url(&url)
        .unwrap();
    let harness = Harness::new(config).unwrap();
    harness
        .database()
        .provision(harness.namespace().clone(), messenger_core::keys::CHANNEL_ACCESS_TOKEN, ACCESS_TOKEN.as_bytes())
        .unwrap();
    (harness, graph)
}

const FIXTURES: &[&str] =
    &["text.json", "image.json", "story-reply.json", "reaction-react.json", "postback.json", "batch-multi-entry.json"];

#[test]
fn inbound_delivers_everything_once_whatever_graph_does() {
    for fault in [Fault::Refuse, Fault::ServerError, Fault::TooManyRequests, Fault::Hang] {
        let (harness, _graph) = faulty_harness(fault);
        let mut shown = 0;
        for name in FIXTURES {
            let events = harness.translate(&signed_delivery(name, 1_794_477_600_000), &options()).unwrap();
            for event in &events {
                assert!(!matches!(event.kind, EventKind::Skipped(_)), "{fault:?} {name}: {event:?}");
                assert!(event.customer.as_ref().unwrap().profile_pending, "{fault:?} {name}");
            }
            shown += events.len();
            let again = harness.translate(&signed_delivery(name, 1_794_477_600_000), &options()).unwrap();
            assert!(again.iter().all(|e| matches!(e.kind, EventKind::Skipped(_))), "{fault:?} {name}: shown twice");
        }
        assert_eq!(shown, 11, "{fault:?}: every event of the fixtures");
    }
}

#[test]
fn outbound_sorts_each_fault_as_later_and_reports_it_after_bounded_retries() {
    let policy =
        RetryPolicy { max_attempts: 2, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(10) };
    for (fault, code) in [
        (Fault::Refuse, "graph-unreachable"),
        (Fault::ServerError, "graph-unavailable"),
        (Fault::TooManyRequests, "graph-unavailable"),
        (Fault::Hang, "graph-timeout"),
    ] {
        let (harness, graph) = faulty_harness(fault);
        let reply = Reply {
            account_id: "17841400000000001".into(),
            customer_id: "1098765432100001".into(),
            now: 1_794_477_600_000,
            author: Author::Agent,
            last_customer_message_at: 1_794_477_000_000,
            human_agent_tag: false,
            text: Some(format!("{}\n\n{}", "a".repeat(900), "b".repeat(900))),
            ..Default::default()
        };
        let plan = harness.validate_reply(&reply).unwrap();
        let outcomes = harness.send_with_retries(&plan, &policy).unwrap();
        let DeliveryStatus::Failed(failure) = &outcomes[0].status else { panic!("{fault:?}: {outcomes:?}") };
        assert_eq!(
            (failure.error.code.as_str(), failure.retry, outcomes[0].attempts),
            (code, Retry::Later, 2),
            "{fault:?}"
        );
        assert_eq!(outcomes[1].status, DeliveryStatus::NotAttempted, "{fault:?}: order kept, reported");
        if let Some(graph) = graph {
            assert_eq!(graph.requests().len(), 2, "{fault:?}: bounded retries");
        }
    }
}
