//! The Conversations API's answers, read leniently: the conversations listed, and a conversation's messages as
//! inbox events (oldest first), each once.

use crate::events::{Attachment, AttachmentType, CustomerProfile, EventKind, InboxEvent, Message};
use crate::keys;
use crate::ports::{Storage, StorageError};
use crate::profile;
use crate::time::{TimestampMs, parse_rfc3339};
use serde::Deserialize;
use serde_json::Value;

/// The conversation ids of a listing, least recently updated first, so that the events come roughly in time order.
pub(super) fn conversations(answer: &Value) -> Vec<String> {
    let Some(data) = answer.get("data").and_then(Value::as_array) else { return Vec::new() };
    let mut listed: Vec<(TimestampMs, String)> = data
        .iter()
        .filter_map(|c| {
            let id = c.get("id")?.as_str().filter(|id| is_conversation_id(id))?;
            Some((c.get("updated_time").and_then(graph_time).unwrap_or(0), id.to_owned()))
        })
        .collect();
    // Equal entries are identical, so the unstable sort gives the stable one's order (without its code).
    listed.sort_unstable();
    listed.into_iter().map(|(_, id)| id).collect()
}

/// Conversation ids are opaque base64-like strings; anything else is not put in a URL.
fn is_conversation_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 512 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-=".contains(&b))
}

/// `updated_time` / `created_time`: ISO 8601 (`2022-07-12T19:11:07+0000`) in practice, Unix seconds in the doc.
fn graph_time(value: &Value) -> Option<TimestampMs> {
    if let Some(seconds) = value.as_u64() {
        return Some(crate::comments::entry_time_ms(seconds));
    }
    let text = value.as_str()?;
    // Graph writes the offset without a colon (`+0000`); RFC 3339 wants `+00:00`.
    let bytes = text.as_bytes();
    let compact_offset = bytes.len() > 5
        && matches!(bytes[bytes.len() - 5], b'+' | b'-')
        && bytes[bytes.len() - 4..].iter().all(u8::is_ascii_digit);
    match compact_offset {
        true => parse_rfc3339(&format!("{}:{}", &text[..text.len() - 2], &text[text.len() - 2..])).ok(),
        false => parse_rfc3339(text).ok(),
    }
}

#[derive(Deserialize)]
struct GraphMessage {
    id: String,
    created_time: Option<Value>,
    from: Option<Person>,
    to: Option<People>,
    message: Option<String>,
    attachments: Option<GraphAttachments>,
}

#[derive(Deserialize)]
struct Person {
    id: String,
    username: Option<String>,
}

#[derive(Deserialize)]
struct People {
    #[serde(default)]
    data: Vec<Person>,
}

#[derive(Deserialize)]
struct GraphAttachments {
    #[serde(default)]
    data: Vec<Value>,
}

/// A conversation's messages as events: oldest first, each message not seen before (by webhook or an earlier
/// backfill) once. The business's own messages are echoes, addressed to the customer.
pub(super) fn import(
    account_id: &str,
    answer: &Value,
    storage: &impl Storage,
) -> Result<Vec<InboxEvent>, StorageError> {
    let data = answer.pointer("/messages/data").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut messages: Vec<(TimestampMs, usize, GraphMessage)> = data
        .into_iter()
        .filter_map(|raw| serde_json::from_value::<GraphMessage>(raw).ok())
        .filter_map(|m| Some((m.created_time.as_ref().and_then(graph_time)?, m)))
        .enumerate()
        .map(|(order, (at, m))| (at, order, m))
        .collect();
    // By time, then the answer's order: the stable sort's result, without the stable sort's code in the component.
    messages.sort_unstable_by_key(|(at, order, _)| (*at, *order));
    let mut events = Vec::new();
    for (at, _, m) in messages {
        let Some(from) = m.from.filter(|f| keys::is_valid_id(&f.id)) else { continue };
        let echo = from.id == account_id;
        let customer = match echo {
            true => m.to.and_then(|to| to.data.into_iter().find(|p| p.id != account_id)),
            false => Some(from),
        };
        let Some(customer) = customer.filter(|c| keys::is_valid_id(&c.id)) else { continue };
        if m.id.is_empty() || !storage.insert_if_absent(&keys::seen_message(&m.id), keys::SEEN_INBOUND)? {
            continue;
        }
        let attachments = m.attachments.map(|a| a.data.iter().map(attachment).collect()).unwrap_or_default();
        let message = Message {
            message_id: m.id,
            customer_id: customer.id.clone(),
            timestamp: at,
            text: m.message.filter(|t| !t.is_empty()),
            attachments,
            story: None,
            reply_to: None,
            quick_reply: None,
        };
        let kind = if echo { EventKind::Echo(message) } else { EventKind::CustomerMessage(message) };
        // No profile lookup here: the backfill keeps its Graph calls to Meta's rate. The cache, else the username.
        let shown = profile::cached(storage, account_id, &customer.id)?.unwrap_or_else(|| CustomerProfile {
            anonymous: customer.username.is_none(),
            username: customer.username,
            ..CustomerProfile::default()
        });
        let mut event = InboxEvent::new(account_id.to_owned(), kind, Some(shown));
        event.backfill = true;
        events.push(event);
    }
    Ok(events)
}

/// A Conversations API attachment (`image_data`, `video_data`, `file_url`; the shape is not confirmed for
/// Instagram): its link, else an `unknown` attachment so the message still says something was sent.
fn attachment(raw: &Value) -> Attachment {
    let url = |pointer: &str| raw.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    let (kind, raw_type, url) = if let Some(link) = url("/image_data/url") {
        (AttachmentType::Image, "image", Some(link))
    } else if let Some(link) = url("/video_data/url") {
        (AttachmentType::Video, "video", Some(link))
    } else if let Some(link) = url("/file_url") {
        (AttachmentType::File, "file", Some(link))
    } else {
        (AttachmentType::Unknown, "unknown", None)
    };
    Attachment { kind, raw_type: raw_type.to_owned(), url, expires_at: None, title: None, media_id: None }
}
