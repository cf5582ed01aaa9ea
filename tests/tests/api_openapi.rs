//! `GET /api/openapi.json`: behind the API key like every `/api/*` route; an OpenAPI 3 document whose references
//! all resolve; it lists exactly the router's routes (the list below, each of which the server routes); and real
//! answers fit it, route by route: every field an answer has is a documented property, every required one is
//! there, and types, enums, nullability and RFC 3339 times hold (`fit`).

use messenger_harness::{Database, Namespace, ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every route of the router: method and path as the document writes it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/webhooks/instagram"),
    ("POST", "/webhooks/instagram"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("POST", "/api/messages"),
    ("GET", "/api/messages/{id}"),
    ("GET", "/api/events"),
    ("GET", "/api/settings"),
    ("PUT", "/api/settings"),
    ("GET", "/api/accounts"),
    ("POST", "/api/accounts/plan"),
    ("POST", "/api/accounts/select"),
    ("PUT", "/api/accounts/{id}/representative"),
    ("DELETE", "/api/accounts/{id}/representative"),
    ("PUT", "/api/accounts/{id}/filters"),
    ("POST", "/api/accounts/{id}/refresh"),
    ("POST", "/api/accounts/{id}/history"),
    ("GET", "/api/accounts/{id}/history"),
    ("GET", "/api/openapi.json"),
];

const A: &str = "17841400000000001";
const B: &str = "17841400000000002";
const C1: &str = "1098765432100001";
const DAY: u64 = 86_400_000;

/// A server whose channel has accounts A (Facebook Login, 5 days left) and B (Instagram Login, 40 days left),
/// against a Graph that sends, refreshes and shows profiles.
fn start(dir: &tempfile::TempDir, graph: &FakeGraph, tweak: impl FnOnce(&mut ServeConfig)) -> ServerHandle {
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    let namespace = Namespace::new("instagram", "default").unwrap();
    let now = messenger_harness::now_ms();
    for (account, days_left, instagram_login) in [(A, 5, false), (B, 40, true)] {
        let record = json!({"linked_at": now - 20 * DAY, "token_expires_at": now + days_left * DAY,
            "username": format!("shop_{account}"), "instagram_login": instagram_login});
        let key = messenger_core::keys::link_record(account);
        database.provision(namespace.clone(), &key, record.to_string().as_bytes()).unwrap();
    }
    let accounts = json!([A, B]).to_string();
    database.provision(namespace, messenger_core::keys::CHANNEL_ACCOUNTS, accounts.as_bytes()).unwrap();
    let mut config = quick_serve_config();
    tweak(&mut config);
    spawn(harness(database, graph), config).unwrap()
}

/// Graph: profiles of C1, sends, and Instagram Login's token refresh.
fn graph() -> FakeGraph {
    FakeGraph::start(|seen| match seen.url.split('?').next().unwrap_or("") {
        path if path.starts_with(&format!("/v23.0/{C1}")) => (200, graph_fixture("profile.json")),
        path if path.ends_with("/messages") => (200, graph_fixture("send-ok.json")),
        "/refresh_access_token" => (200, json!({"access_token": "ig-refreshed", "expires_in": 5_184_000}).to_string()),
        _ => (400, json!({"error": {"message": "unexpected", "type": "OAuthException", "code": 100}}).to_string()),
    })
}

/// `method path` with `headers` and `body`: status, content type and body.
fn call(
    server: &ServerHandle,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let request = ureq::http::Request::builder().method(method).uri(format!("http://{}{path}", server.addr));
    let request = headers.iter().fold(request, |request, (name, value)| request.header(*name, *value));
    let mut response = http_client().run(request.body(body.to_vec()).unwrap()).unwrap();
    let content_type = response.headers().get("content-type").map_or("", |v| v.to_str().unwrap()).to_owned();
    (response.status().as_u16(), content_type, response.body_mut().read_to_string().unwrap())
}

/// The document, fetched with the key.
fn document(server: &ServerHandle) -> Value {
    let (status, content_type, body) = call(server, "GET", "/api/openapi.json", &[AUTH], b"");
    assert_eq!((status, content_type.as_str()), (200, "application/json"), "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Follows `$ref`s within the document.
fn resolve<'d>(doc: &'d Value, mut node: &'d Value) -> &'d Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("an outside reference {reference}"));
        node = doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} resolves to nothing"));
    }
    node
}

/// Whether `value` fits `schema`; the object keys it documents (an `allOf` part documents some of them), or why
/// not. Unknown keys are refused by `fit_whole`, where a value starts.
fn fit(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<BTreeSet<String>, String> {
    let schema = resolve(doc, schema);
    let mut covered = BTreeSet::new();
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        covered.extend(fit(doc, part, value, at)?);
    }
    for (word, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        let Some(branches) = schema.get(word).and_then(Value::as_array) else { continue };
        let fitting: Vec<_> = branches.iter().filter_map(|branch| fit(doc, branch, value, at).ok()).collect();
        match fitting.len() {
            0 => return Err(format!("{at}: {value} fits no branch of {word}")),
            n if n > 1 && exactly_one => return Err(format!("{at}: {value} fits {n} branches of oneOf")),
            _ => covered.extend(fitting.into_iter().flatten()),
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_fits = |t: &&str| match *t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("type {other}"),
    };
    if !types.is_empty() && !types.iter().any(type_fits) {
        return Err(format!("{at}: {value} is not {types:?}"));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some("date-time"), Some(text)) = (schema.get("format").and_then(Value::as_str), value.as_str()) {
        messenger_core::time::parse_rfc3339(text).map_err(|e| format!("{at}: {text} is not a date-time: {e}"))?;
    }
    if let Some(items) = schema.get("items").filter(|_| value.is_array()) {
        for (i, item) in value.as_array().unwrap().iter().enumerate() {
            fit_whole(doc, items, item, &format!("{at}[{i}]"))?;
        }
    }
    let Some(fields) = value.as_object() else { return Ok(covered) };
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        if !fields.contains_key(name.as_str().unwrap()) {
            return Err(format!("{at}: the required {name} is missing from {value}"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, property) in properties.into_iter().flatten() {
        if let Some(field) = fields.get(name) {
            fit_whole(doc, property, field, &format!("{at}.{name}"))?;
        }
        covered.insert(name.clone());
    }
    if schema.get("additionalProperties") == Some(&Value::Bool(false))
        && let Some(extra) = fields.keys().find(|k| !properties.is_some_and(|p| p.contains_key(*k)))
    {
        return Err(format!("{at}: {extra} is not allowed"));
    }
    let free_form = types == ["object"] && properties.is_none() && covered.is_empty();
    if free_form || schema.get("additionalProperties").is_some_and(|a| a != &Value::Bool(false)) {
        covered.extend(fields.keys().cloned());
    }
    Ok(covered)
}

/// `fit`, and every key of the value documented.
fn fit_whole(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<BTreeSet<String>, String> {
    let covered = fit(doc, schema, value, at)?;
    match value.as_object().and_then(|fields| fields.keys().find(|k| !covered.contains(*k))) {
        Some(unknown) => Err(format!("{at}: the field {unknown:?} is not documented ({value})")),
        None => Ok(covered),
    }
}

/// A running server and its document, to check real answers against.
struct Api<'s> {
    server: &'s ServerHandle,
    doc: Value,
}

impl<'s> Api<'s> {
    /// Fetches the server's document.
    fn new(server: &'s ServerHandle) -> Self {
        Self { server, doc: document(server) }
    }

    /// Calls `method path` (its `route` as the document writes it) and checks the answer against the document:
    /// the status is documented, with this content type, and the body fits its schema. The answer, as JSON.
    fn answer(
        &self,
        method: &str,
        route: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        expected: u16,
    ) -> Value {
        let doc = &self.doc;
        let (status, content_type, text) = call(self.server, method, path, headers, body);
        assert_eq!(status, expected, "{method} {path}: {text}");
        let operation = &doc["paths"][route][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {route} is not documented");
        let response = resolve(doc, &operation["responses"][status.to_string()]);
        assert!(response.is_object(), "{method} {route} answered {status}, which is not documented: {text}");
        let content =
            response["content"].as_object().unwrap_or_else(|| panic!("{method} {route} {status} has no body"));
        let (media, schema) = content.iter().next().unwrap();
        assert_eq!(&content_type, media, "{method} {route} {status}: the content type");
        let value =
            if media == "application/json" { serde_json::from_str(&text).unwrap() } else { Value::String(text) };
        if let Err(why) = fit_whole(doc, &schema["schema"], &value, &format!("{method} {route} {status}")) {
            panic!("{why}");
        }
        value
    }
}

#[test]
fn the_document_is_behind_the_key_and_lists_exactly_the_routes() {
    let graph = graph();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, |_| {});
    for headers in [vec![], vec![("Authorization", "Bearer not-the-key")]] {
        let (status, _, body) = call(&server, "GET", "/api/openapi.json", &headers, b"");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("unauthorized")), "{body}");
    }
    let api = Api::new(&server);
    let doc = &api.doc;
    // OpenAPI 3: it reads as utoipa's model of the specification, and every reference resolves.
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let model: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(model.paths.paths.len(), doc["paths"].as_object().unwrap().len());
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]) {
        resolve(doc, &json!({"$ref": reference}));
    }
    let scheme = &doc["components"]["securitySchemes"]["api-key"];
    assert_eq!((scheme["type"].as_str(), scheme["scheme"].as_str()), (Some("http"), Some("bearer")), "{scheme}");

    // Exactly the router's routes.
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((method.to_uppercase(), path.clone()));
            assert!(operation["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
        }
    }
    let listed: BTreeSet<_> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, listed, "the document's routes are the router's");
    for (method, route) in ROUTES {
        // Each one is routed: neither the API's fallback, nor axum's empty 404, nor 405.
        let path = route.replace("/api/messages/{id}", "/api/messages/1").replace("{id}", A);
        let (status, _, body) = call(&server, method, &path, &[AUTH], b"{}");
        let unrouted = status == 405 || (status == 404 && (body.is_empty() || body.contains("no such API route")));
        assert!(!unrouted, "{method} {path} is not routed: {status} {body}");
        // Every /api/* operation: the key, the channel, and the 401.
        let operation = &doc["paths"][route][method.to_lowercase()];
        if route.starts_with("/api/") {
            assert_eq!(operation["security"], json!([{"api-key": []}]), "{method} {route}");
            assert!(operation["responses"]["401"].is_object(), "{method} {route}");
            let names: Vec<&str> =
                operation["parameters"].as_array().into_iter().flatten().map(|p| p["name"].as_str().unwrap()).collect();
            assert_eq!(names.contains(&"channel"), *route != "/api/openapi.json", "{method} {route}: {names:?}");
        } else {
            assert!(operation.get("security").is_none(), "{method} {route} needs no key");
        }
    }
    // The text routes answer as documented.
    api.answer("GET", "/healthz", "/healthz", &[], b"", 200);
    api.answer("GET", "/metrics", "/metrics", &[], b"", 200);
}

#[test]
fn the_accounts_answers_fit_the_document() {
    let graph = graph();
    let dir = tempfile::tempdir().unwrap();
    let server = start(&dir, &graph, |_| {});
    let api = Api::new(&server);
    let check = |method: &str, route: &str, path: &str, body: Value, expected: u16| {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        api.answer(method, route, path, &[AUTH], &body, expected)
    };
    // A webhook for A first: its `last-webhook-at` is a time, B's is null.
    let (body, signature) = signed_item(A, C1, messenger_harness::now_ms(), "message", "m-1");
    assert_eq!(post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body).0, 200);
    let listed = check("GET", "/api/accounts", "/api/accounts", Value::Null, 200);
    assert_eq!(listed["accounts"].as_array().map(Vec::len), Some(2), "{listed}");
    assert!(listed["accounts"][0]["last-webhook-at"].is_string() && listed["accounts"][1]["last-webhook-at"].is_null());

    let one = |path: &str| path.replace("{id}", A);
    let representative = "/api/accounts/{id}/representative";
    check("PUT", representative, &one(representative), Value::Null, 200);
    check("DELETE", representative, &one(representative), Value::Null, 200);
    check("PUT", representative, "/api/accounts/17841400000000009/representative", Value::Null, 404);
    let filters = "/api/accounts/{id}/filters";
    check("PUT", filters, &one(filters), json!({"skip-shares": true}), 200);
    check("PUT", filters, &one(filters), json!({"skip-everything": true}), 400);
    let refresh = "/api/accounts/{id}/refresh";
    check("POST", refresh, &refresh.replace("{id}", B), Value::Null, 200);
    check("POST", refresh, &one(refresh), Value::Null, 400);
    check("POST", "/api/accounts/plan", "/api/accounts/plan", json!({"accounts": [B]}), 200);
    let refused = check("POST", "/api/accounts/select", "/api/accounts/select", json!({"accounts": [B]}), 409);
    assert_eq!(refused["error"]["code"], "selection-drops-accounts");
    check("POST", "/api/accounts/select", "/api/accounts/select", json!({"accounts": [B], "confirm-drop": true}), 200);
    check("GET", "/api/accounts", "/api/accounts?channel=no/such", Value::Null, 400);
    api.answer("GET", "/api/accounts", "/api/accounts", &[], b"", 401);
    // The channel's settings.
    api.answer("PUT", "/api/settings", "/api/settings", &[AUTH], br#"{"owners":["owner-1"],"language":"ko"}"#, 200);
    api.answer("GET", "/api/settings", "/api/settings?channel=other", &[AUTH], b"", 200);
    api.answer("PUT", "/api/settings", "/api/settings", &[AUTH], br#"{"language":"not a tag"}"#, 400);
}

#[test]
fn the_feed_and_reply_answers_fit_the_document() {
    let graph = graph();
    let dir = tempfile::tempdir().unwrap();
    // The expiry scheduler tells A's owners at once: an owner notice in the feed too.
    let server = start(&dir, &graph, |config| {
        config.owners = vec!["owner@example.com".into()];
        config.expiry_every = std::time::Duration::from_millis(20);
    });
    let api = Api::new(&server);
    // Every fixture: every kind of event the connector stores.
    for name in webhook_fixture_names() {
        let (route, signature) = ("/webhooks/instagram", signature_of(&name));
        api.answer("POST", route, route, &[("X-Hub-Signature-256", &signature)], &webhook(&name), 200);
    }
    let forged = [("X-Hub-Signature-256", "sha256=00")];
    api.answer("POST", "/webhooks/instagram", "/webhooks/instagram", &forged, b"{}", 401);
    let started = std::time::Instant::now();
    let kinds = loop {
        let page = api.answer("GET", "/api/events", "/api/events?limit=1000", &[AUTH], b"", 200);
        let kinds: BTreeSet<String> =
            page["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str().map(str::to_owned)).collect();
        if kinds.contains("owner-notice") || started.elapsed().as_secs() > 10 {
            break kinds;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(kinds.len() >= 10 && kinds.contains("owner-notice"), "{kinds:?}");
    api.answer("GET", "/api/events", "/api/events?after=not-a-cursor", &[AUTH], b"", 400);

    // Replies: sent (with the window from traffic), refused, resubmitted, and looked up.
    let (body, signature) = signed_item(A, C1, messenger_harness::now_ms(), "message", "m-2");
    assert_eq!(post(&server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body).0, 200);
    let reply = json!({"account-id": A, "customer-id": C1, "author": "agent", "text": "Hello."}).to_string();
    let send = |headers: &[(&str, &str)], body: &[u8], expected: u16| {
        api.answer("POST", "/api/messages", "/api/messages", headers, body, expected)
    };
    let sent = send(&[AUTH, ("Idempotency-Key", "k-1")], reply.as_bytes(), 200);
    assert_eq!((sent["status"].as_str(), sent["window"]["source"].as_str()), (Some("sent"), Some("traffic")), "{sent}");
    let again = send(&[AUTH, ("Idempotency-Key", "k-1")], reply.as_bytes(), 200);
    assert_eq!(again["id"], sent["id"]);
    let empty = json!({"account-id": A, "customer-id": C1, "author": "agent", "text": " "}).to_string();
    send(&[AUTH], empty.as_bytes(), 422);
    send(&[AUTH], b"not json", 400);
    let route = "/api/messages/{id}";
    api.answer("GET", route, &format!("/api/messages/{}", sent["id"]), &[AUTH], b"", 200);
    api.answer("GET", route, "/api/messages/999999", &[AUTH], b"", 404);
    // Graph down: queued for a retry (202); Graph refusing for good: failed (200, `ok: false`).
    graph.answer_with(|_| (500, json!({"error": {"message": "down", "code": 2, "is_transient": true}}).to_string()));
    let queued = send(&[AUTH], reply.as_bytes(), 202);
    assert_eq!((queued["status"].as_str(), &queued["queued"]), (Some("queued"), &queued["id"]), "{queued}");
    graph.answer_with(|_| (400, graph_fixture("error-user-unavailable.json")));
    let failed = send(&[AUTH], reply.as_bytes(), 200);
    assert_eq!((failed["ok"].as_bool(), failed["status"].as_str()), (Some(false), Some("failed")), "{failed}");
}
