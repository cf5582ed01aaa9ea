//! Who may call `/api/*`: every route answers 401 with a JSON error and does nothing without a valid bearer key;
//! idempotency keys belong to the API key that made them; and `serve` refuses a non-loopback address with no key.

use messenger_harness::{ApiKey, Database, ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::*;
use serde_json::{Value, json};

/// Every `/api/*` route: method and path.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/messages"),
    ("GET", "/api/messages/1"),
    ("GET", "/api/nothing-here"),
    ("GET", "/api/events"),
    ("GET", "/api/accounts"),
    ("POST", "/api/accounts/plan"),
    ("POST", "/api/accounts/select"),
    ("PUT", "/api/accounts/17841400000000001/representative"),
    ("DELETE", "/api/accounts/17841400000000001/representative"),
    ("PUT", "/api/accounts/17841400000000001/filters"),
    ("POST", "/api/accounts/17841400000000001/refresh"),
];

fn start(graph: &FakeGraph, dir: &tempfile::TempDir, keys: Vec<ApiKey>) -> ServerHandle {
    let config = ServeConfig { api_keys: keys, ..quick_serve_config() };
    spawn(harness(Database::open(&dir.path().join("c.db"), 4).unwrap(), graph), config).unwrap()
}

fn call(server: &ServerHandle, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let url = format!("http://{}{path}", server.addr);
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = http_client().run(request.body(body.to_vec()).unwrap()).unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

fn reply_body() -> Vec<u8> {
    json!({"account-id": "17841400000000001", "customer-id": "1098765432100001", "author": "agent",
        "last-customer-message-at": messenger_core::time::format_rfc3339(messenger_harness::now_ms() - 60_000), "text": "Hello."})
    .to_string()
    .into_bytes()
}

#[test]
fn every_api_route_answers_401_without_a_valid_key_and_does_nothing() {
    let graph = FakeGraph::start(|_| (200, graph_fixture("send-ok.json")));
    let dir = tempfile::tempdir().unwrap();
    let server = start(&graph, &dir, quick_serve_config().api_keys);
    let (basic, longer) = (format!("Basic {API_KEY}"), format!("Bearer {API_KEY}x"));
    let wrong = [
        vec![],
        vec![("Authorization", "Bearer not-the-key")],
        vec![("Authorization", "Bearer ")],
        vec![("Authorization", basic.as_str())],
        vec![("Authorization", longer.as_str())],
    ];
    for (method, path) in ROUTES {
        for headers in &wrong {
            let (status, body) = call(&server, method, path, headers, &reply_body());
            assert_eq!(status, 401, "{method} {path} with {headers:?}: {body}");
            let answer: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(answer["error"]["code"], "unauthorized", "{body}");
        }
    }
    assert!(graph.requests().is_empty(), "nothing was sent for an unauthenticated caller");
    // With the key, the same calls go through.
    let (status, body) = call(&server, "POST", "/api/messages", &[AUTH], &reply_body());
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&server, "GET", "/api/nothing-here", &[AUTH], b"");
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()["error"]["code"].as_str()),
        (404, Some("not-found"))
    );
}

#[test]
fn an_idempotency_key_belongs_to_the_api_key_that_made_it() {
    let graph = FakeGraph::start(|_| (200, graph_fixture("send-ok.json")));
    let dir = tempfile::tempdir().unwrap();
    let keys = ApiKey::parse_list("helpdesk:key-of-the-helpdesk, other:key-of-another");
    let server = start(&graph, &dir, keys);
    let (helpdesk, other) =
        (("Authorization", "Bearer key-of-the-helpdesk"), ("Authorization", "Bearer key-of-another"));
    // Another caller claims the key first: the helpdesk's reply is still its own, and sent.
    let (status, first) = call(&server, "POST", "/api/messages", &[other, ("Idempotency-Key", "k-1")], &reply_body());
    assert_eq!(status, 200, "{first}");
    let (status, mine) = call(&server, "POST", "/api/messages", &[helpdesk, ("Idempotency-Key", "k-1")], &reply_body());
    let (first, mine): (Value, Value) = (serde_json::from_str(&first).unwrap(), serde_json::from_str(&mine).unwrap());
    assert_eq!((status, mine["status"].as_str()), (200, Some("sent")), "{mine}");
    assert_ne!(first["id"], mine["id"], "two callers, two replies");
    assert_eq!(graph.requests().len(), 2);
    // The helpdesk's own resubmission still finds its reply.
    let (_, again) = call(&server, "POST", "/api/messages", &[helpdesk, ("Idempotency-Key", "k-1")], &reply_body());
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap()["id"], mine["id"]);
    assert_eq!(graph.requests().len(), 2, "not sent again");
}

#[test]
fn serve_refuses_a_public_address_without_a_key() {
    let graph = FakeGraph::start(|_| (200, String::new()));
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig { addr: "0.0.0.0:0".parse().unwrap(), api_keys: Vec::new(), ..quick_serve_config() };
    let refused = spawn(harness(Database::open(&dir.path().join("c.db"), 2).unwrap(), &graph), config).err().unwrap();
    assert!(format!("{refused:#}").contains("no API key"), "{refused:#}");
    // With a key it listens; on loopback it listens without one.
    let config = ServeConfig { addr: "0.0.0.0:0".parse().unwrap(), ..quick_serve_config() };
    spawn(harness(Database::open(&dir.path().join("d.db"), 2).unwrap(), &graph), config).unwrap().stop().unwrap();
    let config = ServeConfig { api_keys: Vec::new(), ..quick_serve_config() };
    spawn(harness(Database::open(&dir.path().join("e.db"), 2).unwrap(), &graph), config).unwrap().stop().unwrap();
    // Two keys with one name would make idempotency scopes collide: refused.
    let config = ServeConfig { api_keys: ApiKey::parse_list("a:one,a:two"), ..quick_serve_config() };
    assert!(spawn(harness(Database::open(&dir.path().join("f.db"), 2).unwrap(), &graph), config).is_err());
}
