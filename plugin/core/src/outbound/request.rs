//! DESIGN.md's REQUEST JSON, as the `outbound` command and `POST /api/messages` read it, with the kinds beyond
//! text and attachments (quick replies, cards, a sender action, a reaction, a thread control).

use super::{Author, Card, OutgoingAttachment, QuickReply, ReactionRequest, Reply, SenderAction, ThreadControl};
use crate::error::{ConnectorError, codes};
use crate::time::{TimestampMs, parse_rfc3339};
use serde::Deserialize;

/// A reply to a customer: text, attachments (each sent as a message of its own), or both.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReplyRequest {
    /// The business account that answers.
    account_id: String,
    /// The customer's Instagram-scoped id (not needed with `comment-id`).
    #[serde(default)]
    customer_id: String,
    /// The sender's clock (the `outbound` command's); `serve` ignores it and uses its own.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    now: Option<String>,
    /// `agent` (a person) or `bot`.
    #[cfg_attr(feature = "openapi", schema(schema_with = author_schema))]
    author: String,
    /// When the customer last wrote; `serve` uses what it stored from their messages when omitted.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    last_customer_message_at: Option<String>,
    /// Send with the HUMAN_AGENT tag (a person, within 7 days of the customer's last message).
    #[serde(default)]
    human_agent_tag: bool,
    /// Split into several messages when over Instagram's limit.
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<ReplyAttachment>,
    /// Tappable answers under the text (text only).
    #[serde(default)]
    quick_replies: Vec<QuickReply>,
    /// Cards, sent as one generic template.
    #[serde(default)]
    cards: Vec<Card>,
    /// `typing-on`, `typing-off` or `mark-seen`, alone in a request.
    sender_action: Option<SenderAction>,
    /// A reaction to (or its removal from) a customer's message, alone in a request.
    reaction: Option<ReactionRequest>,
    /// Pass, take or request thread control (the handover protocol), alone in a request.
    thread_control: Option<ThreadControl>,
    /// Answer this comment instead of a customer: in private (one DM per comment, within 7 days of it), or with
    /// `public`, under it. Text only.
    comment_id: Option<String>,
    /// With `comment-id`: a public reply under the comment.
    #[serde(default)]
    public: bool,
}

/// An attachment of a reply: `{"url","mime-type","size-bytes"}`, or `{"attachment-id","mime-type"}` for media Meta
/// kept from an earlier send.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReplyAttachment {
    /// A public `https` link; Meta downloads the file from it.
    url: Option<String>,
    /// Decides what is sent: an image, a video, audio or a file.
    mime_type: String,
    /// Checked against Instagram's limits (8 MB for an image, 25 MB otherwise); with `url`.
    size_bytes: Option<u64>,
    /// The id of media Meta kept from an earlier send (the send report's `attachment-id`).
    attachment_id: Option<String>,
}

impl ReplyAttachment {
    fn into_outgoing(self) -> Result<OutgoingAttachment, String> {
        let ReplyAttachment { url, mime_type, size_bytes, attachment_id } = self;
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

/// `author`'s schema: a string of two values (read by hand, to refuse anything else with its own message).
#[cfg(feature = "openapi")]
fn author_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["agent", "bot"]))
        .build()
}

/// Where the customer's last message time of a reply came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum WindowSource {
    /// The request's `last-customer-message-at`.
    Request,
    /// What the connector stored from the customer's own messages, postbacks and referrals.
    Traffic,
    /// A reply to a comment: the comment's stored time decides.
    Comment,
}

/// Reads a REQUEST; `now_ms` stands in when it has no `now`.
pub fn parse_request(bytes: &[u8], now_ms: TimestampMs) -> Result<Reply, ConnectorError> {
    let request = read(bytes)?;
    let now = request.now.as_deref().map(|t| time("now", t)).transpose()?.unwrap_or(now_ms);
    let last = match (request.last_customer_message_at.as_deref(), &request.comment_id) {
        (Some(last), _) => time("last-customer-message-at", last)?,
        // A reply to a comment is timed by the comment, as stored.
        (None, Some(_)) => 0,
        (None, None) => return Err(invalid("missing field `last-customer-message-at`".into())),
    };
    into_reply(request, now, last)
}

/// Reads a REQUEST as the serve API does: its own clock is `now` (a `now` in the request is ignored, so no caller
/// can move the window), and when `last-customer-message-at` is omitted, `last_seen(account, customer)` (when the
/// connector last saw the customer write) stands in. A customer the connector never saw, with no time given, is
/// refused (`unknown-customer`).
pub fn parse_api_request(
    bytes: &[u8],
    now_ms: TimestampMs,
    last_seen: impl FnOnce(&str, &str) -> Result<Option<TimestampMs>, ConnectorError>,
) -> Result<(Reply, WindowSource), ConnectorError> {
    let request = read(bytes)?;
    let (last, source) = match request.last_customer_message_at.as_deref() {
        Some(last) => (time("last-customer-message-at", last)?, WindowSource::Request),
        // A reply to a comment is timed by the comment, as stored.
        None if request.comment_id.is_some() => (0, WindowSource::Comment),
        None => match last_seen(&request.account_id, &request.customer_id)? {
            Some(last) => (last, WindowSource::Traffic),
            None => {
                return Err(ConnectorError::new(
                    codes::UNKNOWN_CUSTOMER,
                    "the connector never saw this customer write to this account: give last-customer-message-at",
                ));
            }
        },
    };
    Ok((into_reply(request, now_ms, last)?, source))
}

fn invalid(why: String) -> ConnectorError {
    ConnectorError::new(codes::INVALID_REQUEST, why)
}

fn time(field: &str, text: &str) -> Result<TimestampMs, ConnectorError> {
    parse_rfc3339(text).map_err(|e| invalid(format!("{field}: {e}")))
}

fn read(bytes: &[u8]) -> Result<ReplyRequest, ConnectorError> {
    serde_json::from_slice(bytes).map_err(|e| invalid(format!("the request is not the outbound JSON: {e}")))
}

fn into_reply(
    request: ReplyRequest,
    now: TimestampMs,
    last_customer_message_at: TimestampMs,
) -> Result<Reply, ConnectorError> {
    let author = match request.author.as_str() {
        "agent" => Author::Agent,
        "bot" => Author::Bot,
        other => return Err(invalid(format!("author is \"agent\" or \"bot\", not {other:?}"))),
    };
    let attachments = request
        .attachments
        .into_iter()
        .map(ReplyAttachment::into_outgoing)
        .collect::<Result<_, _>>()
        .map_err(|why| invalid(format!("the request is not the outbound JSON: {why}")))?;
    Ok(Reply {
        now,
        last_customer_message_at,
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
        comment_id: request.comment_id,
        public_reply: request.public,
    })
}
