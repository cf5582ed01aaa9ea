//! DESIGN.md's REQUEST JSON, as the `outbound` command and `POST /api/messages` read it, with the kinds beyond
//! text and attachments (quick replies, cards, a sender action, a reaction, a thread control).

use super::{Author, Card, OutgoingAttachment, QuickReply, ReactionRequest, Reply, SenderAction, ThreadControl};
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
    #[serde(default)]
    quick_replies: Vec<QuickReply>,
    #[serde(default)]
    cards: Vec<Card>,
    sender_action: Option<SenderAction>,
    reaction: Option<ReactionRequest>,
    thread_control: Option<ThreadControl>,
}

/// `{"url","mime-type","size-bytes"}`, or `{"attachment-id","mime-type"}` for media Meta kept.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Attachment {
    url: Option<String>,
    mime_type: String,
    size_bytes: Option<u64>,
    attachment_id: Option<String>,
}

impl Attachment {
    fn into_outgoing(self) -> Result<OutgoingAttachment, String> {
        let Attachment { url, mime_type, size_bytes, attachment_id } = self;
        match (&url, size_bytes, &attachment_id) {
            (Some(_), None, None) => Err("an attachment with a `url` needs its `size-bytes`".into()),
            (None, _, None) => Err("an attachment needs a `url` (with `size-bytes`) or an `attachment-id`".into()),
            _ => Ok(OutgoingAttachment {
                url: url.unwrap_or_default(),
                mime_type,
                size_bytes: size_bytes.unwrap_or_default(),
                attachment_id,
            }),
        }
    }
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
    let attachments = request
        .attachments
        .into_iter()
        .map(Attachment::into_outgoing)
        .collect::<Result<_, _>>()
        .map_err(|why| invalid(format!("the request is not the outbound JSON: {why}")))?;
    Ok(Reply {
        now: request.now.as_deref().map(|t| time("now", t)).transpose()?.unwrap_or(now_ms),
        last_customer_message_at: time("last-customer-message-at", &request.last_customer_message_at)?,
        account_id: request.account_id,
        customer_id: request.customer_id,
        author,
        human_agent_tag: request.human_agent_tag,
        text: request.text,
        attachments,
        quick_replies: request.quick_replies,
        cards: request.cards,
        sender_action: request.sender_action,
        reaction: request.reaction,
        thread_control: request.thread_control,
    })
}
