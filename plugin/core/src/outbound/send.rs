//! Sending a plan: one Graph request per message, in order, stopping at the first failure so order is kept. Each
//! takes one from the account's send budget for its class first. Each sent id is recorded so that its echo is
//! recognised, and every failure is sorted for the retry.

use super::budget::{self, RateClass};
use super::call::authorized;
use super::{CommentReply, PlannedMessage, SendPlan, graph_call};
use crate::comments;
use crate::error::ConnectorError;
use crate::graph::GraphError;
use crate::keys;
use crate::ports::{Http, Method, Storage};
use crate::time::TimestampMs;
use serde_json::Value;

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
    pub(crate) fn new(code: &str, message: impl Into<String>, retry: Retry) -> Self {
        Self { error: ConnectorError::new(code, message), retry, graph: None }
    }
}

/// An attachment sent by its link that Meta kept: the message, and the id to send the media again by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SentAttachment {
    pub message_id: String,
    pub attachment_id: String,
}

/// What became of one message. Serialized as a report entry: `{"status":"sent","message-id":...}` (plus
/// `attachment-id` for media Meta kept), `{"status":"done"}` for an action, `{"status":"failed","error":...,
/// "retry":...,"graph"?:...}` or `{"status":"not-attempted"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent(String),
    SentAttachment(SentAttachment),
    Done,
    Failed(SendError),
    NotAttempted,
}

impl DeliveryStatus {
    /// Whether Graph accepted it.
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Sent(_) | Self::SentAttachment(_) | Self::Done)
    }
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
            Self::SentAttachment(sent) => {
                map.serialize_entry("status", "sent")?;
                map.serialize_entry("message-id", &sent.message_id)?;
                map.serialize_entry("attachment-id", &sent.attachment_id)?;
            }
            Self::Done => map.serialize_entry("status", "done")?,
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
#[schema(description = "What became of one message: sent, done, failed (why, and whether to retry), or not attempted.")]
#[serde(tag = "status", rename_all = "kebab-case")]
#[expect(dead_code, reason = "a schema twin: only its derived schema is used")]
enum DeliveryStatusSchema {
    /// Graph accepted it, under this message id (and, for media Meta kept, the id to send it again by).
    Sent {
        #[serde(rename = "message-id")]
        message_id: String,
        #[serde(rename = "attachment-id")]
        attachment_id: Option<String>,
    },
    /// Graph carried out an action (a sender action, a reaction, a change of thread control).
    Done,
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
            _ => send_one(plan, message, now, storage, http).unwrap_or_else(DeliveryStatus::Failed),
        };
        statuses.push(status);
    }
    Ok(statuses)
}

/// Graph's code for a second private reply to one comment (observed on both platforms).
const ALREADY_REPLIED: i64 = 10_900;

/// A reply to a comment that Graph took: a private reply's message id (its echo is then ours, and the comment has
/// had its one private reply), or a public reply's new comment id.
fn comment_reply_sent(
    storage: &impl Storage,
    plan: &SendPlan,
    reply: &CommentReply,
    answer: &Value,
    now: TimestampMs,
) -> Result<DeliveryStatus, SendError> {
    let field = if reply.public { "id" } else { "message_id" };
    let Some(id) = answer.get(field).and_then(Value::as_str) else {
        return Err(SendError::new(
            "unexpected-response",
            format!("Instagram answered 200 without `{field}`"),
            Retry::Never,
        ));
    };
    if !reply.public {
        let _ = comments::mark_replied(storage, &plan.account_id, &reply.comment_id, now);
        let _ = storage.set(&keys::seen_message(id), keys::SEEN_SENT);
    }
    Ok(DeliveryStatus::Sent(id.to_owned()))
}

fn send_one(
    plan: &SendPlan,
    message: &PlannedMessage,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<DeliveryStatus, SendError> {
    let taken = budget::take(storage, &plan.account_id, RateClass::of(message), now).map_err(|e| {
        SendError::new("storage-unavailable", format!("storage failed before sending: {e:?}"), Retry::Later)
    })?;
    if !taken {
        return Err(SendError::new(
            "send-budget-exhausted",
            "this account's send budget is used up for now; retry shortly",
            Retry::Later,
        ));
    }
    let private_reply = match message {
        PlannedMessage::CommentReply(reply) if !reply.public => Some(reply.comment_id.as_str()),
        _ => None,
    };
    if let Some(comment_id) = private_reply {
        // Checked again here, before the Graph call: a second or late private reply never reaches Meta.
        comments::check_reply(storage, &plan.account_id, comment_id, false, now).map_err(|error| {
            let retry = if error.code == crate::codes::STORAGE_UNAVAILABLE { Retry::Later } else { Retry::Never };
            SendError { error, retry, graph: None }
        })?;
    }
    let call = graph_call(plan, message);
    let answer = authorized(storage, http, &plan.account_id, Method::Post, &call.path, Some(&call.body), now);
    if let (Some(comment_id), Err(failure)) = (private_reply, &answer) {
        // "Activity already replied to": someone answered it in private already (by hand, perhaps).
        if failure.graph.as_ref().is_some_and(|g| g.code == ALREADY_REPLIED) {
            let _ = comments::mark_replied(storage, &plan.account_id, comment_id, now);
        }
    }
    let answer = answer?;
    if let PlannedMessage::CommentReply(reply) = message {
        return comment_reply_sent(storage, plan, reply, &answer, now);
    }
    if !message.makes_message() {
        // Sender actions and reactions answer `{"recipient_id"}`, thread control `{"success":true}`.
        if answer.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(SendError::new(
                "unexpected-response",
                "Instagram answered 200 with success false",
                Retry::Never,
            ));
        }
        return Ok(DeliveryStatus::Done);
    }
    let text_field = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
    let Some(mid) = text_field("message_id") else {
        // Graph took the request but named no message: sending again could duplicate it.
        return Err(SendError::new("unexpected-response", "Instagram answered 200 without a message id", Retry::Never));
    };
    // Recorded so that the echo of this message is skipped. A failure here only costs a visible echo.
    let _ = storage.set(&keys::seen_message(&mid), keys::SEEN_SENT);
    Ok(match text_field("attachment_id") {
        Some(attachment_id) if matches!(message, PlannedMessage::Attachment(_)) => {
            DeliveryStatus::SentAttachment(SentAttachment { message_id: mid, attachment_id })
        }
        _ => DeliveryStatus::Sent(mid),
    })
}
