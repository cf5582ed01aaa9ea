//! What the end-to-end tests share: the public fixtures and signed bodies, a fake Graph API on a loopback port (and
//! its answers to replies and profile settings), reviewed goldens, a harness wired to both, throwaway PostgreSQL
//! servers (`pg`), free ports, an HTTP client, and the built components' paths as constants.

pub mod console;
pub mod generate;
mod messaging;
pub mod meta;
pub mod pg;
pub mod raw;

pub use messaging::{REUSABLE_ATTACHMENT_ID, assert_golden};
pub use pg::free_port;

use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_harness::{Database, EgressPolicy, Harness, HarnessConfig};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

include!(concat!(env!("OUT_DIR"), "/components.rs"));
/// The connector component the host embeds.
pub const PLUGIN_COMPONENT: &str = messenger_harness::PLUGIN_WASM_PATH;

pub const APP_SECRET: &str = "fixture-app-secret";
/// The API key test servers accept, as `AUTH` sends it.
pub const API_KEY: &str = "test-api-key-3b9e1d";
/// The header that authenticates a test's API call.
pub const AUTH: (&str, &str) = ("Authorization", "Bearer test-api-key-3b9e1d");

/// The token the tests provision; it must reach Graph in the Authorization header and nowhere else.
pub const ACCESS_TOKEN: &str = "test-access-token-5f1c";

/// `../shared/fixtures`, beside the repository.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures"))
}

pub fn webhook_path(name: &str) -> PathBuf {
    fixtures_dir().join("webhooks").join(name)
}

/// The names of the webhook fixtures (`webhooks/*.json` but the signature table), sorted.
pub fn webhook_fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir().join("webhooks"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json") && name != "signatures.json")
        .collect();
    names.sort();
    names
}

/// An HTTP client that returns every status as an answer, not as an error.
pub fn http_client() -> ureq::Agent {
    http_client_with_timeout(None)
}

/// As `http_client`, giving up on any exchange after `timeout`.
pub fn http_client_with_timeout(timeout: Option<std::time::Duration>) -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(timeout).build().into()
}

/// The `X-Hub-Signature-256` value of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    messenger_core::signature::sign(secret.as_bytes(), body)
}

/// POSTs `body` with `headers` to a running server; its status and body.
pub fn post(
    server: &messenger_harness::ServerHandle,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    post_to(server.addr, path, headers, body)
}

/// POSTs `body` with `headers` to `addr`; its status and body.
pub fn post_to(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut request = http_client().post(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

/// GETs `path` from `addr` with the test API key; its status and body.
pub fn api_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut response = http_client().get(format!("http://{addr}{path}")).header(AUTH.0, AUTH.1).call().unwrap();
    (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
}

/// Calls `method path` on `addr` with `headers` and `body`; its status and body parsed as JSON (panics when the
/// body is not JSON: every API answer is).
pub fn api_call(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    let request = ureq::http::Request::builder().method(method).uri(format!("http://{addr}{path}"));
    let request = headers.iter().fold(request, |request, (name, value)| request.header(*name, *value));
    let mut response = http_client().run(request.body(body.to_vec()).unwrap()).unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
    (response.status().as_u16(), json)
}

/// A signed delivery of one item for `account` from `customer` at `timestamp`: `message` (a text), `postback`,
/// `referral` or `reaction`.
pub fn signed_item(account: &str, customer: &str, timestamp: u64, kind: &str, id: &str) -> (Vec<u8>, String) {
    let item = match kind {
        "message" => serde_json::json!({"message": {"mid": id, "text": format!("hello {id}")}}),
        "postback" => serde_json::json!({"postback": {"mid": id, "title": "Start", "payload": "START"}}),
        "referral" => serde_json::json!({"referral": {"ref": id, "source": "ADS", "type": "OPEN_THREAD"}}),
        "reaction" => serde_json::json!({"reaction": {"mid": id, "action": "react", "reaction": "love", "emoji": "❤"}}),
        other => panic!("no such item kind {other}"),
    };
    let mut messaging =
        serde_json::json!({"sender": {"id": customer}, "recipient": {"id": account}, "timestamp": timestamp});
    messaging.as_object_mut().unwrap().extend(item.as_object().unwrap().clone());
    let body = serde_json::json!({"object": "instagram", "entry": [{"time": timestamp, "id": account, "messaging": [messaging]}]});
    let body = serde_json::to_vec(&body).unwrap();
    let signature = sign(APP_SECRET, &body);
    (body, signature)
}

/// Pages `GET /api/events` from `after` with `limit` until a page comes back empty: every event, and the last cursor.
pub fn read_feed(
    addr: std::net::SocketAddr,
    query: &str,
    after: &str,
    limit: usize,
) -> (Vec<serde_json::Value>, String) {
    let (mut events, mut after) = (Vec::new(), after.to_owned());
    loop {
        let (status, body) = api_get(addr, &format!("/api/events?after={after}&limit={limit}{query}"));
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        let got = page["events"].as_array().unwrap().clone();
        assert!(got.len() <= limit, "a page holds at most `limit` events");
        after = page["next"].as_str().unwrap().to_owned();
        if got.is_empty() {
            return (events, after);
        }
        events.extend(got);
    }
}

/// A delivery of one text message from customer C1 to account A, with message id `mid`, its time offset by `i`
/// ms: a fresh body for each `i`, for tests that post many.
pub fn text_delivery(mid: &str, i: usize, text: &str) -> Vec<u8> {
    let body = serde_json::json!({"object": "instagram", "entry": [{"time": 1, "id": "17841400000000001", "messaging": [{
        "sender": {"id": "1098765432100001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_794_474_843_512u64 + i as u64,
        "message": {"mid": mid, "text": text}}]}]});
    serde_json::to_vec(&body).unwrap()
}

/// Runs the CLI in process with `args` (after the program's name): its stdout as JSON, and its exit code.
pub fn run_cli(args: &[&str]) -> (serde_json::Value, u8) {
    let (stdout, code) =
        messenger_harness::commands::run_args(std::iter::once("messenger-harness").chain(args.iter().copied()));
    (serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}")), code)
}

/// A webhook body, byte for byte.
pub fn webhook(name: &str) -> Vec<u8> {
    std::fs::read(webhook_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The `X-Hub-Signature-256` value published for a webhook fixture.
pub fn signature_of(name: &str) -> String {
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures_dir().join("webhooks/signatures.json")).unwrap()).unwrap();
    table[name].as_str().unwrap_or_else(|| panic!("no signature for {name}")).to_owned()
}

/// A Graph response body from the fixtures.
pub fn graph_fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures_dir().join("graph").join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// One request the fake Graph received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub url: String,
    pub authorization: Option<String>,
    pub body: String,
    /// Every header, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// A header of the request, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

type Responder = dyn Fn(&Seen) -> (u16, String) + Send + Sync;

/// An HTTP server on a loopback port whose requests `handle` answers on a thread of its own. Stops when dropped.
pub struct Loopback {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Loopback {
    /// Starts serving each request with `handle`.
    pub fn serve(mut handle: impl FnMut(tiny_http::Request) + Send + 'static) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("binding a loopback port"));
        let incoming = server.clone();
        let thread = std::thread::spawn(move || incoming.incoming_requests().for_each(&mut handle));
        Self { server, thread: Some(thread) }
    }

    /// Its address on 127.0.0.1.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.server.server_addr().to_ip().expect("an IP listener")
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A Graph API on 127.0.0.1, answering with `respond`, recording every request. Stops when dropped.
pub struct FakeGraph {
    seen: Arc<Mutex<Vec<Seen>>>,
    respond: Arc<Mutex<Arc<Responder>>>,
    server: Loopback,
}

impl FakeGraph {
    pub fn start(respond: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Mutex<Arc<Responder>>> = Arc::new(Mutex::new(Arc::new(respond)));
        let (log, responder) = (seen.clone(), respond.clone());
        let server = Loopback::serve(move |mut request| {
            let authorization =
                request.headers().iter().find(|h| h.field.equiv("authorization")).map(|h| h.value.to_string());
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(request.as_reader(), &mut body);
            let headers = request
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.to_string()))
                .collect();
            let (method, url) = (request.method().to_string(), request.url().to_owned());
            let entry = Seen { method, url, authorization, body, headers };
            let answer = responder.lock().unwrap().clone();
            // Recorded before answering, so a slow answer is already counted.
            log.lock().unwrap().push(entry.clone());
            let (status, body) = answer(&entry);
            let header = tiny_http::Header::from_bytes("content-type", "application/json").unwrap();
            let _ =
                request.respond(tiny_http::Response::from_string(body).with_status_code(status).with_header(header));
        });
        Self { seen, respond, server }
    }

    /// Answers every profile request with `profile.json`'s body for C1, `profile-no-name.json` for C9, else 404.
    pub fn with_profiles() -> Self {
        Self::start(|seen| {
            if seen.url.starts_with("/v23.0/1098765432100001?") {
                (200, graph_fixture("profile.json"))
            } else if seen.url.starts_with("/v23.0/1098765432100009?") {
                (200, graph_fixture("profile-no-name.json"))
            } else {
                (404, r#"{"error":{"message":"not found","type":"GraphMethodException","code":100}}"#.into())
            }
        })
    }

    /// Changes how it answers from now on.
    pub fn answer_with(&self, respond: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) {
        *self.respond.lock().unwrap() = Arc::new(respond);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A harness on `database`, with Graph traffic sent to `graph` and the test token provisioned for the channel.
pub fn harness(database: Database, graph: &FakeGraph) -> Harness {
    let mut config = HarnessConfig::new(database);
    config.egress = EgressPolicy::default().with_graph_url(&graph.url()).unwrap();
    let harness = Harness::new(config).expect("building the harness");
    harness
        .database()
        .provision(harness.namespace().clone(), messenger_core::keys::CHANNEL_ACCESS_TOKEN, ACCESS_TOKEN.as_bytes())
        .unwrap();
    harness
}

/// A serve configuration for tests: a free loopback port, the fixtures' app secret, and a retry queue and backoff
/// fast enough to watch.
pub fn quick_serve_config() -> messenger_harness::ServeConfig {
    use std::time::Duration;
    messenger_harness::ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        app_secret: Some(APP_SECRET.into()),
        outbox_every: Duration::from_millis(50),
        retry: messenger_harness::RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
        },
        api_keys: vec![messenger_harness::ApiKey { name: "test".into(), key: API_KEY.into(), channel: None }],
        ..Default::default()
    }
}

/// The delivery of a webhook fixture with its published signature.
pub fn signed_delivery(name: &str, received_at: u64) -> Delivery {
    Delivery { headers: vec![("X-Hub-Signature-256".into(), signature_of(name))], body: webhook(name), received_at }
}

pub fn options() -> TranslateOptions {
    TranslateOptions { app_secret: APP_SECRET.into(), filters: None }
}

/// The value stored under `key` in any namespace, as text.
pub fn stored_value(db_path: &std::path::Path, key: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(db_path).unwrap();
    let value: Option<Vec<u8>> = conn.query_row("SELECT value FROM kv WHERE key = ?1", [key], |row| row.get(0)).ok();
    value.map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// Every row of the kv table, to prove what was (not) stored.
pub fn stored_rows(db_path: &std::path::Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db_path).unwrap();
    let mut stmt = conn.prepare("SELECT namespace, key FROM kv ORDER BY namespace, key").unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
}

/// Starts `serve` (a `messenger-harness serve` command listening on `port`), its output discarded, and waits up to
/// 20 s until it answers `/healthz`.
pub fn spawn_serving(mut serve: std::process::Command, port: u16) -> std::process::Child {
    let child = serve.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ureq::get(format!("http://127.0.0.1:{port}/healthz")).call().is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}
