//! Sending a plan: one Graph Send API request per message, in order, stopping at the first failure so order is
//! kept. Each sent id is recorded so that its echo is recognised, and every failure is sorted for the retry.

use super::{MessageTag, PlannedMessage, SendPlan, budget};
use crate::error::ConnectorError;
use crate::graph::{self, GraphError};
use crate::keys;
use crate::ports::{Http, HttpError, HttpRequest, Method, Storage};
use crate::time::TimestampMs;
use serde_json::json;

/// A send may take longer than a profile lookup: Meta downloads attachments before it answers.
pub const SEND_TIMEOUT_MS: u32 = 10_000;

/// When a failed message may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Retry {
    Now,
    Later,
    Never,
    Reauthorize,
}

/// Why a message was not sent, and whether it may be tried again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendError {
    pub error: ConnectorError,
    pub retry: Retry,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphError>,
}

impl SendError {
    fn new(code: &str, message: impl Into<String>, retry: Retry) -> Self {
        Self { error: ConnectorError::new(code, message), retry, graph: None }
    }
}

/// What became of one message. Serialized as a report entry: `{"status":"sent","message-id":...}`,
/// `{"status":"failed","error":...,"retry":...,"graph"?:...}` or `{"status":"not-attempted"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent(String),
    Failed(SendError),
    NotAttempted,
}

impl serde::Serialize for DeliveryStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self {
            Self::Sent(mid) => {
                map.serialize_entry("status", "sent")?;
                map.serialize_entry("message-id", mid)?;
            }
            Self::NotAttempted => map.serialize_entry("status", "not-attempted")?,
            Self::Failed(failure) => {
                map.serialize_entry("status", "failed")?;
                map.serialize_entry("error", &failure.error)?;
                map.serialize_entry("retry", &failure.retry)?;
                if let Some(graph) = &failure.graph {
                    map.serialize_entry("graph", graph)?;
                }
            }
        }
        map.end()
    }
}

/// The schema of what `DeliveryStatus` writes by hand: tagged by `status`, its fields beside the tag. Never built;
/// it only describes.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(description = "What became of one message: sent, failed (why, and whether to retry), or not attempted.")]
#[serde(tag = "status", rename_all = "kebab-case")]
#[expect(dead_code, reason = "a schema twin: only its derived schema is used")]
enum DeliveryStatusSchema {
    /// Graph accepted it, under this message id.
    Sent {
        #[serde(rename = "message-id")]
        message_id: String,
    },
    /// Graph refused it, or it could not be sent; nothing after it in the reply was sent.
    Failed(SendError),
    /// An earlier message of the reply failed: this one was not tried.
    NotAttempted,
}

/// `DeliveryStatus` is described by its twin's schema.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for DeliveryStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <DeliveryStatusSchema as utoipa::PartialSchema>::schema()
    }
}

/// Named `DeliveryStatus` in the document; the twin's referenced schemas (`SendError`, ...) come along.
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for DeliveryStatus {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <DeliveryStatusSchema as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Sends the plan's messages in order; one status per message.
pub fn send(
    plan: &SendPlan,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Vec<DeliveryStatus>, ConnectorError> {
    if !keys::is_valid_id(&plan.account_id) || !keys::is_valid_id(&plan.customer_id) {
        return Err(ConnectorError::new(
            crate::codes::INVALID_ACCOUNT_ID,
            "the plan's account or customer id is not an Instagram id",
        ));
    }
    let mut statuses = Vec::with_capacity(plan.messages.len());
    for message in &plan.messages {
        let status = match statuses.last() {
            Some(DeliveryStatus::Failed(_) | DeliveryStatus::NotAttempted) => DeliveryStatus::NotAttempted,
            _ => match send_one(plan, message, now, storage, http) {
                Ok(mid) => DeliveryStatus::Sent(mid),
                Err(error) => DeliveryStatus::Failed(error),
            },
        };
        statuses.push(status);
    }
    Ok(statuses)
}

fn send_one(
    plan: &SendPlan,
    message: &PlannedMessage,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<String, SendError> {
    let storage_failed =
        |e| SendError::new("storage-unavailable", format!("storage failed before sending: {e:?}"), Retry::Later);
    let media = matches!(message, PlannedMessage::Attachment(_));
    if !budget::take(storage, &plan.account_id, media, now).map_err(storage_failed)? {
        return Err(SendError::new(
            "send-budget-exhausted",
            "this account's send budget is used up for now; retry shortly",
            Retry::Later,
        ));
    }
    let Some(token) = graph::access_token(storage, &plan.account_id).map_err(storage_failed)? else {
        return Err(SendError::new(
            "no-access-token",
            "the account has no access token; link (authorize) it first",
            Retry::Reauthorize,
        ));
    };
    let request = HttpRequest {
        method: Method::Post,
        url: format!("{}/me/messages", graph::base_url(storage, &plan.account_id).map_err(storage_failed)?),
        headers: vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("content-type".into(), "application/json".into()),
        ],
        body: request_body(plan, message),
        timeout_ms: Some(SEND_TIMEOUT_MS),
    };
    let response = http.send(&request).map_err(transport_error)?;
    if response.status == 200 {
        let sent: Option<String> = serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|body| body.get("message_id")?.as_str().map(str::to_owned));
        let Some(mid) = sent else {
            // Graph took the request but named no message: sending again could duplicate it.
            return Err(SendError::new(
                "unexpected-response",
                "Instagram answered 200 without a message id",
                Retry::Never,
            ));
        };
        // Recorded so that the echo of this message is skipped. A failure here only costs a visible echo.
        let _ = storage.set(&keys::seen_message(&mid), keys::SEEN_SENT);
        return Ok(mid);
    }
    let Some(graph_error) = GraphError::parse(response.status, &response.body) else {
        let retry = if response.status >= 500 || response.status == 429 { Retry::Later } else { Retry::Never };
        return Err(SendError::new(
            "graph-unavailable",
            format!("Instagram answered HTTP {} without an error body", response.status),
            retry,
        ));
    };
    let verdict = graph::classify(&graph_error);
    if verdict.breaks_link {
        let record = json!({"code": graph_error.code, "subcode": graph_error.subcode, "at": now});
        let _ = storage.set(&keys::link_error(&plan.account_id), record.to_string().as_bytes());
    }
    Err(SendError {
        error: ConnectorError::new(verdict.code, verdict.explanation),
        retry: verdict.retry,
        graph: Some(graph_error),
    })
}

fn request_body(plan: &SendPlan, message: &PlannedMessage) -> Vec<u8> {
    let content = match message {
        PlannedMessage::Text(text) => json!({"text": text}),
        PlannedMessage::Attachment(attachment) => {
            json!({"attachment": {"type": attachment.kind.as_str(), "payload": {"url": attachment.url}}})
        }
    };
    let mut body = json!({"recipient": {"id": plan.customer_id}, "message": content});
    match plan.tag {
        Some(MessageTag::HumanAgent) => {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        }
        None => body["messaging_type"] = json!("RESPONSE"),
    }
    serde_json::to_vec(&body).expect("a send body always serializes")
}

fn transport_error(error: HttpError) -> SendError {
    match error {
        HttpError::Timeout => SendError::new("graph-timeout", "Instagram did not answer in time", Retry::Later),
        HttpError::Connection(why) => {
            SendError::new("graph-unreachable", format!("could not reach Instagram: {why}"), Retry::Later)
        }
        HttpError::TooLarge(_) => {
            SendError::new("graph-unavailable", "Instagram's answer was larger than allowed", Retry::Later)
        }
        HttpError::Denied(why) => {
            SendError::new("egress-denied", format!("the host refused the request: {why}"), Retry::Never)
        }
        HttpError::InvalidRequest(why) => {
            SendError::new("invalid-request", format!("the request was invalid: {why}"), Retry::Never)
        }
    }
}
