//! Requests that make no message: sender actions, the business's reactions, and changes of thread control
//! (Conversation Routing). Each goes alone in a reply: one Graph call, no tag.

use super::checks::chars;
use super::codes;
use super::limits::{MAX_HANDOVER_METADATA_CHARS, MAX_MESSAGE_ID_BYTES, MAX_REACTION_GRAPHEMES, REACTION_NAME_LOVE};
use super::{PlannedMessage, Reply};
use crate::error::ConnectorError;
use crate::keys;
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// `typing-on`, `typing-off` or `mark-seen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SenderAction {
    TypingOn,
    TypingOff,
    MarkSeen,
}

impl SenderAction {
    /// Graph's name for it.
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::TypingOn => "typing_on",
            Self::TypingOff => "typing_off",
            Self::MarkSeen => "mark_seen",
        }
    }
}

/// `{"message-id","emoji"}` to react, `{"message-id","remove":true}` to take the reaction back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReactionRequest {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

/// `pass`, `take` or `request` thread control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ThreadAction {
    Pass,
    Take,
    Request,
}

impl ThreadAction {
    /// The Graph edge that does it, under the account (`/me/...`).
    pub fn graph_edge(self) -> &'static str {
        match self {
            Self::Pass => "pass_thread_control",
            Self::Take => "take_thread_control",
            Self::Request => "request_thread_control",
        }
    }
}

/// `{"action","target-app-id"?,"metadata"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ThreadControl {
    pub action: ThreadAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
}

/// The reply's action as its one planned message (None when it names several); every broken rule added to
/// `errors`. Called only for a reply that `asks_action`.
pub(super) fn check(reply: &Reply, errors: &mut Vec<ConnectorError>) -> Option<PlannedMessage> {
    let mut actions = [
        reply.sender_action.map(PlannedMessage::SenderAction),
        reply.reaction.clone().map(PlannedMessage::Reaction),
        reply.thread_control.clone().map(PlannedMessage::ThreadControl),
    ]
    .into_iter()
    .flatten();
    let first = actions.next();
    let alone = actions.next().is_none()
        && reply.text.as_deref().is_none_or(|t| t.trim().is_empty())
        && reply.attachments.is_empty()
        && reply.quick_replies.is_empty()
        && reply.cards.is_empty();
    if !alone {
        errors.push(ConnectorError::new(
            codes::ACTION_NOT_ALONE,
            "a sender action, a reaction or a thread control goes alone in a reply, with no text, attachment, quick reply, card or other action",
        ));
    }
    if let Some(reaction) = &reply.reaction {
        check_reaction(errors, reaction);
    }
    if let Some(control) = &reply.thread_control {
        check_thread_control(errors, control);
    }
    first.filter(|_| alone)
}

fn check_reaction(errors: &mut Vec<ConnectorError>, reaction: &ReactionRequest) {
    let id = &reaction.message_id;
    if id.trim().is_empty()
        || id.len() > MAX_MESSAGE_ID_BYTES
        || id.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        let message = format!("the message to react to is named by its id (mid), at most {MAX_MESSAGE_ID_BYTES} bytes");
        errors.push(ConnectorError::new(codes::INVALID_MESSAGE_ID, message));
    }
    let problem = match (&reaction.emoji, reaction.remove) {
        (Some(_), true) => Some("a reaction either sets an emoji or removes one, not both".to_owned()),
        (None, false) => Some("a reaction needs an emoji, or `remove: true` to take it back".to_owned()),
        (Some(emoji), false) if !is_reaction(emoji) => {
            Some(format!("{emoji:?} is not one emoji (or Meta's name {REACTION_NAME_LOVE:?})"))
        }
        _ => None,
    };
    if let Some(message) = problem {
        errors.push(ConnectorError::new(codes::INVALID_REACTION, message));
    }
}

/// One emoji, however many code points it takes, and not a letter, digit or space; or Meta's name `love`.
fn is_reaction(emoji: &str) -> bool {
    let graphemes = emoji.graphemes(true).count();
    emoji == REACTION_NAME_LOVE
        || (graphemes >= 1
            && graphemes <= MAX_REACTION_GRAPHEMES
            && !emoji.chars().any(|c| c.is_alphanumeric() || c.is_whitespace() || c.is_control()))
}

fn check_thread_control(errors: &mut Vec<ConnectorError>, control: &ThreadControl) {
    if let Some(app) = &control.target_app_id {
        if control.action != ThreadAction::Pass {
            let message = "only a pass names the app to give control to; take and request name none";
            errors.push(ConnectorError::new(codes::UNEXPECTED_TARGET_APP, message));
        } else if !keys::is_valid_id(app) || !app.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(ConnectorError::new(codes::INVALID_APP_ID, "an app id is Meta's numeric id of the app"));
        }
    }
    if let Some(metadata) = control.metadata.as_deref().filter(|m| chars(m) > MAX_HANDOVER_METADATA_CHARS) {
        let message = format!(
            "the metadata has {} characters; at most {MAX_HANDOVER_METADATA_CHARS} are allowed",
            chars(metadata)
        );
        errors.push(ConnectorError::new(codes::METADATA_TOO_LONG, message));
    }
}
