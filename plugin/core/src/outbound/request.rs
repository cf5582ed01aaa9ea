//! DESIGN.md's REQUEST JSON, as the `outbound` command and `POST /api/messages` read it.

use super::{Author, OutgoingAttachment, Reply};
use crate::error::{ConnectorError, codes};
use crate::time::{TimestampMs, parse_rfc3339};
use serde::Deserialize;

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
pub fn parse_request(bytes: &[u8], now_ms: TimestampMs) -> Result<Reply, ConnectorError> {
    let invalid = |why: String| ConnectorError::new(codes::INVALID_REQUEST, why);
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
