//! `GET /metrics`: Prometheus text counting deliveries by outcome, events by kind, replies by status, Graph errors
//! by class and plugin faults, the queue and push depths, and request latency by route (never by raw path).

use messenger_harness::{Database, ForwardConfig, ServeConfig, serve as spawn};
use messenger_test_support::*;
use serde_json::json;

fn metric(text: &str, line_start: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with(line_start)).unwrap_or_else(|| panic!("no {line_start} in\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn metrics_count_what_the_node_did() {
    let graph = FakeGraph::start(|seen| {
        if seen.body.contains("Refused") {
            (400, r#"{"error":{"message":"bad","type":"OAuthException","code":100}}"#.into())
        } else {
            (200, graph_fixture("send-ok.json"))
        }
    });
    let receiver = FakeGraph::start(|_| (500, String::new()));
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig { forward: Some(ForwardConfig::new(receiver.url(), "s")), ..quick_serve_config() };
    let server = spawn(harness(Database::open(&dir.path().join("c.db"), 4).unwrap(), &graph), config).unwrap();
    for name in ["text.json", "image.json", "postback.json"] {
        let signature = signature_of(name);
        assert_eq!(post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &webhook(name)).0, 200);
    }
    assert_eq!(
        post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", "sha256=00")], &webhook("text.json")).0,
        401
    );
    let recent = messenger_core::time::format_rfc3339(messenger_harness::now_ms() - 60_000);
    for text in ["Hello", "Refused"] {
        let body = json!({"account-id": "17841400000000001", "customer-id": "1098765432100001", "author": "agent",
            "last-customer-message-at": recent, "text": text});
        assert_eq!(post(&server, "/api/messages", &[AUTH], body.to_string().as_bytes()).0, 200);
    }
    let (status, _) = api_get(server.addr, "/api/messages/1");
    assert_eq!(status, 200);
    let mut response = http_client().get(format!("http://{}/metrics", server.addr)).call().unwrap();
    assert_eq!(response.status().as_u16(), 200, "no key needed: scraped inside the deployment");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.body_mut().read_to_string().unwrap();
    assert_eq!(metric(&text, "messenger_deliveries_total{outcome=\"committed\"}"), 3.0);
    assert_eq!(metric(&text, "messenger_deliveries_total{outcome=\"bad-signature\"}"), 1.0);
    assert_eq!(metric(&text, "messenger_events_total{kind=\"customer-message\"}"), 2.0);
    assert_eq!(metric(&text, "messenger_events_total{kind=\"postback\"}"), 1.0);
    assert_eq!(metric(&text, "messenger_replies_total{status=\"sent\"}"), 1.0);
    assert_eq!(metric(&text, "messenger_replies_total{status=\"failed\"}"), 1.0);
    assert_eq!(metric(&text, "messenger_graph_errors_total{class=\"never\"}"), 1.0);
    assert_eq!(metric(&text, "messenger_outbox_pending"), 0.0);
    assert_eq!(metric(&text, "messenger_forward_pending"), 3.0, "the receiver refuses everything");
    assert_eq!(metric(&text, "messenger_plugin_faults_total"), 0.0);
    // Posted one after another, each delivery committed in a group of its own.
    assert_eq!((metric(&text, "messenger_commit_groups"), metric(&text, "messenger_grouped_commits")), (3.0, 3.0));
    let webhook_count =
        "messenger_request_duration_seconds_count{method=\"POST\",route=\"/webhooks/instagram\",status=\"200\"}";
    assert_eq!(metric(&text, webhook_count), 3.0);
    assert!(text.contains("route=\"/api/messages/{id}\""), "routes by pattern, not by path:\n{text}");
}
