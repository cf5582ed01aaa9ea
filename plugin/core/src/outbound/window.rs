//! The messaging window: what may be sent how long after the customer's last message, and with which tag.

use super::limits::ACTION_WINDOW_MS;
use super::{Author, MessageTag, Reply, codes};
use crate::error::ConnectorError;
use crate::time::{DAY_MS, TimestampMs, format_rfc3339};

/// The standard window after the customer's last message: any reply.
pub const STANDARD_WINDOW_MS: u64 = DAY_MS;
/// The human-agent window: only a person, only with the HUMAN_AGENT tag.
pub const HUMAN_AGENT_WINDOW_MS: u64 = 7 * DAY_MS;

/// The tag to send with and when the window closes, or why nothing may be sent now. Messages (text, attachments,
/// quick replies, cards) follow the author's rules; actions (sender actions, reactions, thread control) are
/// exempt from them, never tagged, within `ACTION_WINDOW_MS`.
pub(super) fn decide(reply: &Reply) -> Result<(Option<MessageTag>, TimestampMs), ConnectorError> {
    let last = reply.last_customer_message_at;
    if reply.asks_action() {
        let end = last.saturating_add(ACTION_WINDOW_MS);
        return match reply.now < end {
            true => Ok((None, end)),
            false => closed(end, "7 days after the customer's last message no action reaches them"),
        };
    }
    let standard_end = last.saturating_add(STANDARD_WINDOW_MS);
    let human_end = last.saturating_add(HUMAN_AGENT_WINDOW_MS);
    if reply.now < standard_end {
        return Ok((None, standard_end));
    }
    match reply.author {
        Author::Bot => closed(
            standard_end,
            "after 24 hours only a human agent may reply, and only until the customer's message is 7 days old",
        ),
        Author::Agent if !reply.human_agent_tag => {
            closed(standard_end, "this app may not use the HUMAN_AGENT tag, which replies after 24 hours need")
        }
        Author::Agent if reply.now < human_end => Ok((Some(MessageTag::HumanAgent), human_end)),
        Author::Agent => {
            closed(human_end, "7 days after the customer's last message nothing can be sent until they write again")
        }
    }
}

fn closed<T>(at: TimestampMs, why: &str) -> Result<T, ConnectorError> {
    let message = format!("the messaging window closed at {}: {why}", format_rfc3339(at));
    Err(ConnectorError::new(codes::WINDOW_CLOSED, message))
}
