//! The window from traffic: a reply that omits `last-customer-message-at` uses when the customer last wrote (a
//! message, a postback or a referral; not a reaction), on the server's clock, and says so; a customer never seen
//! is refused with `unknown-customer` before anything is sent or queued; a caller's own `now` moves nothing.

use messenger_harness::{Database, ServeConfig, serve as spawn};
use messenger_test_support::*;
use serde_json::{Value, json};

const A: &str = "17841400000000001";

fn reply(customer: &str, extra: Value) -> Vec<u8> {
    let mut body = json!({"account-id": A, "customer-id": customer, "author": "bot", "text": "Thanks!"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    body.to_string().into_bytes()
}

#[test]
fn a_reply_without_a_time_uses_when_the_customer_last_wrote() {
    let graph = FakeGraph::start(|_| (200, graph_fixture("send-ok.json")));
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig { ..quick_serve_config() };
    let server = spawn(harness(Database::open(&dir.path().join("c.db"), 4).unwrap(), &graph), config).unwrap();
    let now = messenger_harness::now_ms();
    let deliveries = [
        ("1000000000000001", "message", now - 3_600_000),
        ("1000000000000002", "postback", now - 7_200_000),
        ("1000000000000003", "referral", now - 60_000),
        ("1000000000000004", "reaction", now - 60_000),
        // An old message then a newer one: the newer counts.
        ("1000000000000005", "message", now - 3 * 86_400_000),
        ("1000000000000005", "message", now - 120_000),
    ];
    for (i, (customer, kind, at)) in deliveries.iter().enumerate() {
        let (body, signature) = signed_item(A, customer, *at, kind, &format!("item-{i}"));
        let (status, answer) = post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body);
        assert_eq!(status, 200, "{kind}: {answer}");
    }
    for (customer, at) in [
        ("1000000000000001", now - 3_600_000),
        ("1000000000000002", now - 7_200_000),
        ("1000000000000003", now - 60_000),
        ("1000000000000005", now - 120_000),
    ] {
        let (status, answer) = api_call(server.addr, "POST", "/api/messages", &[AUTH], &reply(customer, json!({})));
        assert_eq!((status, answer["status"].as_str()), (200, Some("sent")), "{customer}: {answer}");
        let used = messenger_core::time::format_rfc3339(at);
        assert_eq!(
            (answer["window"]["source"].as_str(), answer["window"]["last-customer-message-at"].as_str()),
            (Some("traffic"), Some(used.as_str())),
            "{answer}"
        );
        assert!(answer["window"]["now"].is_string(), "the server's clock is said: {answer}");
    }
    let sent = graph.requests().len();
    // A reaction does not open the window, and a stranger was never seen: refused before any Graph call.
    for customer in ["1000000000000004", "1000000000000099"] {
        let (status, answer) = api_call(server.addr, "POST", "/api/messages", &[AUTH], &reply(customer, json!({})));
        assert_eq!((status, answer["errors"][0]["code"].as_str()), (422, Some("unknown-customer")), "{answer}");
    }
    // A caller's `now` does not move the window: three days after a message, a bot may not answer.
    let old = messenger_core::time::format_rfc3339(now - 3 * 86_400_000);
    let early = messenger_core::time::format_rfc3339(now - 3 * 86_400_000 + 60_000);
    let body = reply("1000000000000099", json!({"last-customer-message-at": old, "now": early}));
    let (status, answer) = api_call(server.addr, "POST", "/api/messages", &[AUTH], &body);
    assert_eq!((status, answer["errors"][0]["code"].as_str()), (422, Some("window-closed")), "{answer}");
    // A time given is used as given (and the answer is as before: no `window`).
    let recent = messenger_core::time::format_rfc3339(now - 60_000);
    let body = reply("1000000000000099", json!({"last-customer-message-at": recent}));
    let (status, answer) = api_call(server.addr, "POST", "/api/messages", &[AUTH], &body);
    assert_eq!((status, answer.get("window")), (200, None), "{answer}");
    assert_eq!(graph.requests().len(), sent + 1, "only the last reply reached Graph");
}
