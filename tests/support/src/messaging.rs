//! A fake of the Graph calls replies and profile settings make: the Send API (messages, sender actions,
//! reactions), thread control, and the Messenger Profile API, which keeps what was set so a read gives it back.

use crate::{FakeGraph, Seen, graph_fixture};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The id the fake answers for media sent by its link with `is_reusable`.
pub const REUSABLE_ATTACHMENT_ID: &str = "1857777774821032";

impl FakeGraph {
    /// Answers as Meta documents each call: a message id for a message (and an `attachment_id` for media Meta is
    /// asked to keep), `{"recipient_id"}` for a sender action or reaction, `{"success":true}` for thread control
    /// and profile changes, and the profile settings set before for a read.
    pub fn messaging() -> Self {
        let profile: Mutex<BTreeMap<String, Value>> = Mutex::default();
        Self::start(move |seen| answer(seen, &profile))
    }
}

fn answer(seen: &Seen, profile: &Mutex<BTreeMap<String, Value>>) -> (u16, String) {
    let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
    let path = seen.url.split('?').next().unwrap_or("");
    let ok = |value: Value| (200, value.to_string());
    match (seen.method.as_str(), path) {
        ("POST", "/v23.0/me/messages") if body.get("sender_action").is_some() => {
            ok(json!({"recipient_id": body["recipient"]["id"]}))
        }
        ("POST", "/v23.0/me/messages") => {
            let mut sent: Value = serde_json::from_str(&graph_fixture("send-ok.json")).expect("send-ok.json is JSON");
            if body["message"]["attachment"]["payload"]["is_reusable"] == json!(true) {
                sent["attachment_id"] = json!(REUSABLE_ATTACHMENT_ID);
            }
            ok(sent)
        }
        ("POST", p) if p.ends_with("_thread_control") => ok(json!({"success": true})),
        (_, "/v23.0/me/messenger_profile") => {
            let mut kept = profile.lock().expect("the profile store");
            match seen.method.as_str() {
                "GET" => {
                    let field = seen.url.split("fields=").nth(1).and_then(|f| f.split('&').next()).unwrap_or("");
                    ok(json!({"data": kept.get(field).cloned().unwrap_or_else(|| json!([]))}))
                }
                "DELETE" => {
                    for field in body["fields"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                        kept.remove(field);
                    }
                    ok(json!({"success": true}))
                }
                _ => {
                    for field in ["ice_breakers", "persistent_menu"] {
                        if let Some(value) = body.get(field) {
                            kept.insert(field.to_owned(), value.clone());
                        }
                    }
                    ok(json!({"success": true}))
                }
            }
        }
        _ => (404, r#"{"error":{"message":"not found","type":"GraphMethodException","code":100}}"#.into()),
    }
}

impl Seen {
    /// The request as a reviewed golden holds it: method, path and query, and the body as JSON (null when none).
    pub fn as_golden(&self) -> Value {
        let body = serde_json::from_str(&self.body).unwrap_or(Value::Null);
        json!({"method": self.method, "url": self.url, "body": body})
    }
}

/// Compares `actual` with the reviewed JSON at `path`; `MESSENGER_BLESS=1` writes it there instead, after a
/// deliberate change.
#[track_caller]
pub fn assert_golden(path: &std::path::Path, actual: &Value) {
    if std::env::var_os("MESSENGER_BLESS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(actual).expect("JSON prints") + "\n")
            .expect("writing a golden");
        return;
    }
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(actual, &expected, "{}", path.display());
}
