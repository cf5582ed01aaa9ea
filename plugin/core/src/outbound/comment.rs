//! Replies to a comment: a private reply (a DM by the Send API's `recipient.comment_id`) or a public one under it.
//! Both carry text only, in one message. Whether a private reply is still allowed (once per comment, within 7 days)
//! is read from what the connector stored of the comment, before any Graph call.

use super::{MAX_TEXT_BYTES, PlannedMessage, Reply, SendPlan, codes};
use crate::comments::{self, PRIVATE_REPLY_WINDOW_MS};
use crate::error::ConnectorError;
use crate::keys;
use crate::ports::Storage;
use serde::{Deserialize, Serialize};

/// A planned reply to a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommentReply {
    pub comment_id: String,
    pub text: String,
    /// A public reply under the comment instead of a private one.
    #[serde(default)]
    pub public: bool,
}

/// Validates a reply addressed to `comment_id`: every broken rule at once, the comment's own checks included.
pub(super) fn validate(
    reply: &Reply,
    comment_id: &str,
    storage: &impl Storage,
) -> Result<SendPlan, Vec<ConnectorError>> {
    let mut errors = Vec::new();
    if !keys::is_valid_id(&reply.account_id) {
        errors.push(ConnectorError::new(crate::codes::INVALID_ACCOUNT_ID, "the account id is not an Instagram id"));
    }
    let text = reply.text.as_deref().filter(|t| !t.trim().is_empty());
    match text {
        None => errors.push(ConnectorError::new(codes::EMPTY_MESSAGE, "a reply to a comment needs its text")),
        Some(text) if text.len() > MAX_TEXT_BYTES => {
            let message = format!(
                "a reply to a comment is one message of at most {MAX_TEXT_BYTES} bytes; this text has {}",
                text.len()
            );
            errors.push(ConnectorError::new(codes::TEXT_TOO_LONG, message));
        }
        Some(_) => {}
    }
    let extras = !reply.attachments.is_empty() || !reply.cards.is_empty() || !reply.quick_replies.is_empty();
    if extras || reply.asks_action() {
        errors.push(ConnectorError::new(
            comments::codes::COMMENT_REPLY_TEXT_ONLY,
            "a reply to a comment carries text only: no attachments, cards, quick replies or actions",
        ));
    }
    let comment = match comments::check_reply(storage, &reply.account_id, comment_id, reply.public_reply, reply.now) {
        Ok(comment) => Some(comment),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let (Some(comment), Some(text), true) = (comment, text, errors.is_empty()) else { return Err(errors) };
    let planned = CommentReply { comment_id: comment_id.to_owned(), text: text.to_owned(), public: reply.public_reply };
    Ok(SendPlan {
        account_id: reply.account_id.clone(),
        customer_id: comment.customer_id,
        messages: vec![PlannedMessage::CommentReply(planned)],
        tag: None,
        // A public reply has no window; a private one closes 7 days after the comment.
        window_closes_at: if reply.public_reply {
            reply.now
        } else {
            comment.at.saturating_add(PRIVATE_REPLY_WINDOW_MS)
        },
    })
}
