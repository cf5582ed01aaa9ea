//! The `outbound` command's JSON (DESIGN.md): the REQUEST in, the plan and delivery reports out.

use crate::bindings::outbound::{
    Author, DeliveryStatus, MessageTag, OutgoingAttachment, PlannedMessage, Reply, Retry, SendPlan,
};
use crate::retry::Outcome;
use messenger_core::ConnectorError;
use messenger_core::time::{format_rfc3339, parse_rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Request {
    account_id: String,
    customer_id: String,
    now: Option<String>,
    author: String,
    last_customer_message_at: String,
    #[serde(default)]
    human_agent_tag: bool,
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Attachment {
    url: String,
    mime_type: String,
    size_bytes: u64,
}

/// Reads a REQUEST; `now_ms` stands in when it has no `now`.
pub fn parse_request(bytes: &[u8], now_ms: u64) -> Result<Reply, ConnectorError> {
    let invalid = |why: String| ConnectorError::new("invalid-request", why);
    let request: Request =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("the request is not the outbound JSON: {e}")))?;
    let time = |field: &str, text: &str| parse_rfc3339(text).map_err(|e| invalid(format!("{field}: {e}")));
    let author = match request.author.as_str() {
        "agent" => Author::Agent,
        "bot" => Author::Bot,
        other => return Err(invalid(format!("author is \"agent\" or \"bot\", not {other:?}"))),
    };
    Ok(Reply {
        now: request.now.as_deref().map(|t| time("now", t)).transpose()?.unwrap_or(now_ms),
        last_customer_message_at: time("last-customer-message-at", &request.last_customer_message_at)?,
        account_id: request.account_id,
        customer_id: request.customer_id,
        author,
        human_agent_tag: request.human_agent_tag,
        text: request.text,
        attachments: request
            .attachments
            .into_iter()
            .map(|a| OutgoingAttachment { url: a.url, mime_type: a.mime_type, size_bytes: a.size_bytes })
            .collect(),
    })
}

/// `{"ok":true,"messages":[...],"tag":...,"window-closes-at":...}`
pub fn plan(plan: &SendPlan) -> Value {
    let messages: Vec<Value> = plan
        .messages
        .iter()
        .map(|m| match m {
            PlannedMessage::Text(text) => json!({"text": text}),
            PlannedMessage::Attachment(a) => json!({"attachment": {"type": media_name(a.type_), "url": a.url}}),
        })
        .collect();
    let tag = plan.tag.map(|MessageTag::HumanAgent| "HUMAN_AGENT");
    json!({"ok": true, "messages": messages, "tag": tag, "window-closes-at": format_rfc3339(plan.window_closes_at)})
}

/// `{"ok":false,"errors":[...]}`
pub fn invalid(errors: &[ConnectorError]) -> Value {
    json!({"ok": false, "errors": errors})
}

/// One report per planned message, in order.
pub fn deliveries(outcomes: &[Outcome]) -> Value {
    outcomes
        .iter()
        .map(|outcome| match &outcome.status {
            DeliveryStatus::Sent(mid) => json!({"status": "sent", "message-id": mid, "attempts": outcome.attempts}),
            DeliveryStatus::NotAttempted => json!({"status": "not-attempted", "attempts": 0}),
            DeliveryStatus::Failed(failure) => {
                let mut report = json!({
                    "status": "failed",
                    "error": {"code": failure.error.code, "message": failure.error.message},
                    "retry": retry_name(failure.retry),
                    "attempts": outcome.attempts,
                });
                if let Some(graph) = &failure.graph {
                    report["graph"] =
                        json!({"code": graph.code, "subcode": graph.subcode, "http-status": graph.http_status});
                }
                report
            }
        })
        .collect()
}

fn media_name(kind: crate::bindings::outbound::MediaType) -> &'static str {
    use crate::bindings::outbound::MediaType;
    match kind {
        MediaType::Image => "image",
        MediaType::Video => "video",
        MediaType::Audio => "audio",
        MediaType::File => "file",
    }
}

pub fn retry_name(retry: Retry) -> &'static str {
    match retry {
        Retry::Now => "now",
        Retry::Later => "later",
        Retry::Never => "never",
        Retry::Reauthorize => "reauthorize",
    }
}

/// A plan as the retry queue stores it (times in ms).
pub fn stored_plan(plan: &SendPlan) -> Value {
    let mut stored = self::plan(plan);
    stored["account-id"] = json!(plan.account_id);
    stored["customer-id"] = json!(plan.customer_id);
    stored["window-closes-at"] = json!(plan.window_closes_at);
    stored
}

/// Reads back a stored plan.
pub fn plan_from_stored(stored: &Value) -> Option<SendPlan> {
    use crate::bindings::outbound::{MediaType, PlannedAttachment};
    let messages = stored["messages"]
        .as_array()?
        .iter()
        .map(|m| match (m.get("text"), m.get("attachment")) {
            (Some(text), _) => Some(PlannedMessage::Text(text.as_str()?.to_owned())),
            (_, Some(a)) => {
                let kind = match a["type"].as_str()? {
                    "image" => MediaType::Image,
                    "video" => MediaType::Video,
                    "audio" => MediaType::Audio,
                    "file" => MediaType::File,
                    _ => return None,
                };
                Some(PlannedMessage::Attachment(PlannedAttachment { type_: kind, url: a["url"].as_str()?.to_owned() }))
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(SendPlan {
        account_id: stored["account-id"].as_str()?.to_owned(),
        customer_id: stored["customer-id"].as_str()?.to_owned(),
        messages,
        tag: stored["tag"].as_str().map(|_| MessageTag::HumanAgent),
        window_closes_at: stored["window-closes-at"].as_u64()?,
    })
}
