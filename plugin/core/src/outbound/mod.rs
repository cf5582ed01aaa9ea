//! Outbound replies: validated into a send plan before anything is sent, then sent in order. A reply is a message
//! (text, attachments, quick replies, cards) or one action (a sender action, a reaction, a change of thread
//! control).

mod actions;
mod attachment;
mod body;
mod budget;
mod call;
mod checks;
pub mod codes;
mod comment;
pub mod limits;
mod report;
mod request;
mod rich;
mod send;
mod split;
mod window;

pub use actions::{ReactionRequest, SenderAction, ThreadAction, ThreadControl};
pub use attachment::{
    MAX_ATTACHMENTS, MAX_IMAGE_BYTES, MAX_MEDIA_BYTES, MediaType, OutgoingAttachment, PlannedAttachment,
    ReusedAttachment,
};
pub(crate) use body::GraphButton;
pub use body::{GraphCall, graph_call};
pub use budget::{MEDIA_PER_SECOND, RATES, Rate, RateClass, SENDER_ACTIONS_PER_SECOND, TEXT_PER_SECOND};
pub(crate) use call::authorized;
pub(crate) use checks::{Label, count as check_count, payload as check_payload};
pub use comment::CommentReply;
pub use report::{Invalid, PlanReport};
pub use request::{ReplyAttachment, ReplyRequest, WindowSource, parse_api_request, parse_request};
pub(crate) use rich::check_button;
pub use rich::{Button, Card, LinkButton, PostbackButton, QuickReply, TextWithQuickReplies};
pub use send::{DeliveryStatus, Retry, SendError, SentAttachment, send};
pub use split::{MAX_PARTS, MAX_TEXT_BYTES, split};
pub use window::{HUMAN_AGENT_WINDOW_MS, STANDARD_WINDOW_MS};

use crate::error::ConnectorError;
use crate::keys;
use crate::time::TimestampMs;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Author {
    /// A person: the default, as the helpdesk's agents write most replies.
    #[default]
    Agent,
    Bot,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub account_id: String,
    pub customer_id: String,
    pub now: TimestampMs,
    pub author: Author,
    pub last_customer_message_at: TimestampMs,
    pub human_agent_tag: bool,
    pub text: Option<String>,
    pub attachments: Vec<OutgoingAttachment>,
    pub quick_replies: Vec<QuickReply>,
    pub cards: Vec<Card>,
    pub sender_action: Option<SenderAction>,
    pub reaction: Option<ReactionRequest>,
    pub thread_control: Option<ThreadControl>,
    /// The comment this reply answers (a private reply, or a public one with `public_reply`), instead of a
    /// customer: the stored comment names its author.
    pub comment_id: Option<String>,
    pub public_reply: bool,
}

impl Reply {
    /// Whether the reply asks for an action (which makes no message) rather than sending a message.
    pub fn asks_action(&self) -> bool {
        self.sender_action.is_some() || self.reaction.is_some() || self.thread_control.is_some()
    }
}

/// One message of a plan, one Graph request: `{"text": ...}`, `{"attachment": {"type", "url"}}`,
/// `{"reused-attachment": ...}`, `{"text-with-quick-replies": ...}`, `{"cards": [...]}`, `{"sender-action": ...}`,
/// `{"reaction": ...}` or `{"thread-control": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlannedMessage {
    Text(String),
    Attachment(PlannedAttachment),
    ReusedAttachment(ReusedAttachment),
    TextWithQuickReplies(TextWithQuickReplies),
    Cards(Vec<Card>),
    SenderAction(SenderAction),
    Reaction(ReactionRequest),
    ThreadControl(ThreadControl),
    CommentReply(CommentReply),
}

impl PlannedMessage {
    /// Whether Graph answers it with a message id (a message), or with none (an action).
    pub fn makes_message(&self) -> bool {
        !matches!(self, Self::SenderAction(_) | Self::Reaction(_) | Self::ThreadControl(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageTag {
    #[serde(rename = "HUMAN_AGENT")]
    HumanAgent,
}

/// A validated reply. Its serde form (times in ms) is what the host's reply queue stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SendPlan {
    pub account_id: String,
    pub customer_id: String,
    pub messages: Vec<PlannedMessage>,
    pub tag: Option<MessageTag>,
    pub window_closes_at: TimestampMs,
}

/// Checks a reply as `validate` does; a reply to a comment is checked against what was stored of the comment (its
/// time, its author, whether it was answered in private already).
pub fn validate_stored(reply: &Reply, storage: &impl crate::ports::Storage) -> Result<SendPlan, Vec<ConnectorError>> {
    match &reply.comment_id {
        Some(comment_id) => comment::validate(reply, comment_id, storage),
        None => validate(reply),
    }
}

/// Checks a reply against Instagram's and the helpdesk's rules; every problem at once. A reply to a comment needs
/// storage: `validate_stored`.
pub fn validate(reply: &Reply) -> Result<SendPlan, Vec<ConnectorError>> {
    let mut errors = Vec::new();
    if !keys::is_valid_id(&reply.account_id) {
        errors.push(ConnectorError::new(
            crate::codes::INVALID_ACCOUNT_ID,
            "the account id is not an Instagram account id",
        ));
    }
    if !keys::is_valid_id(&reply.customer_id) {
        errors.push(ConnectorError::new(codes::INVALID_CUSTOMER_ID, "the customer id is not an Instagram-scoped id"));
    }
    let window = window::decide(reply).map_err(|e| errors.push(e)).ok();
    // The message's rules are checked even beside an action, so that every broken rule is named.
    let messages = message(reply, &mut errors);
    let messages = match reply.asks_action() {
        true => actions::check(reply, &mut errors).into_iter().collect(),
        false => messages,
    };
    match window {
        Some((tag, window_closes_at)) if errors.is_empty() => Ok(SendPlan {
            account_id: reply.account_id.clone(),
            customer_id: reply.customer_id.clone(),
            messages,
            tag,
            window_closes_at,
        }),
        _ => Err(errors),
    }
}

/// The messages of a reply that is a message: its text split, its attachments, its cards. With quick replies the
/// text goes last, carrying them: Instagram shows quick replies under the newest message only.
fn message(reply: &Reply, errors: &mut Vec<ConnectorError>) -> Vec<PlannedMessage> {
    let text = reply.text.as_deref().filter(|t| !t.trim().is_empty());
    if text.is_none() && reply.attachments.is_empty() && reply.cards.is_empty() && !reply.asks_action() {
        errors.push(ConnectorError::new(codes::EMPTY_MESSAGE, "the reply has no text and no attachment"));
    }
    let mut parts = match text.map(split).transpose() {
        Ok(parts) => parts.unwrap_or_default(),
        Err(error) => {
            errors.push(error);
            Vec::new()
        }
    };
    if reply.attachments.len() > MAX_ATTACHMENTS {
        let message = format!(
            "a reply can carry at most {MAX_ATTACHMENTS} attachments; this one has {}",
            reply.attachments.len()
        );
        errors.push(ConnectorError::new(codes::TOO_MANY_ATTACHMENTS, message));
    }
    let mut media = Vec::new();
    for (index, outgoing) in reply.attachments.iter().enumerate() {
        match attachment::check(outgoing) {
            Ok(planned) => media.push(planned),
            Err(error) => {
                errors.push(ConnectorError { message: format!("attachment {}: {}", index + 1, error.message), ..error })
            }
        }
    }
    let cards = rich::check_cards(errors, &reply.cards);
    if !cards.is_empty() {
        media.push(PlannedMessage::Cards(cards));
    }
    rich::check_quick_replies(errors, &reply.quick_replies, text.is_some());
    let last = match parts.pop() {
        Some(last) if !reply.quick_replies.is_empty() => last,
        last => return parts.into_iter().chain(last).map(PlannedMessage::Text).chain(media).collect(),
    };
    let with_quick_replies = TextWithQuickReplies { text: last, quick_replies: reply.quick_replies.clone() };
    media
        .into_iter()
        .chain(parts.into_iter().map(PlannedMessage::Text))
        .chain([PlannedMessage::TextWithQuickReplies(with_quick_replies)])
        .collect()
}
