//! Comments on the business's media: the `comments` and `live_comments` webhook fields in, as `comment` events
//! deduplicated on the comment id; and what a reply to a comment is checked against (one private reply per
//! comment, within 7 days of it), from the record each delivered comment leaves.

use crate::error::ConnectorError;
use crate::events::{Comment, CommentMedia, CustomerProfile, EventKind, SkipReason};
use crate::items::{Translated, Translator};
use crate::keys;
use crate::ports::{Http, Storage, StorageError};
use crate::profile;
use crate::time::{DAY_MS, SECOND_MS, TimestampMs, format_rfc3339};
use crate::webhook::RawComment;
use serde::{Deserialize, Serialize};

/// A private reply must be sent within 7 days of the comment (Meta's private replies page).
pub const PRIVATE_REPLY_WINDOW_MS: u64 = 7 * DAY_MS;

/// Codes of a refused reply to a comment.
pub mod codes {
    /// The connector has no record of the comment (never delivered, or older than the dedup marks' 14 days).
    pub const UNKNOWN_COMMENT: &str = "unknown-comment";
    /// A private reply to this comment was already sent: Meta allows one.
    pub const COMMENT_REPLY_USED: &str = "comment-reply-used";
    /// The comment is over 7 days old: Meta refuses a private reply to it.
    pub const COMMENT_REPLY_EXPIRED: &str = "comment-reply-expired";
    /// A reply to a comment carries text only (no attachments, cards, quick replies or actions), in one message.
    pub const COMMENT_REPLY_TEXT_ONLY: &str = "comment-reply-text-only";
}

/// What the connector keeps of a delivered comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub at: TimestampMs,
    pub customer_id: String,
    #[serde(default)]
    pub live: bool,
}

/// The stored record of a comment, if it was delivered.
pub fn record(
    storage: &impl Storage,
    account_id: &str,
    comment_id: &str,
) -> Result<Option<CommentRecord>, StorageError> {
    let stored = storage.get(&keys::comment(account_id, comment_id))?;
    Ok(stored.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// The comment a private reply may answer at `now`: its record, or why not (`unknown-comment`,
/// `comment-reply-used`, `comment-reply-expired`). A public reply needs only the record.
pub fn check_reply(
    storage: &impl Storage,
    account_id: &str,
    comment_id: &str,
    public: bool,
    now: TimestampMs,
) -> Result<CommentRecord, ConnectorError> {
    if !keys::is_valid_id(comment_id) {
        return Err(ConnectorError::new(codes::UNKNOWN_COMMENT, "the comment id is not an Instagram id"));
    }
    let Some(comment) = record(storage, account_id, comment_id)? else {
        return Err(ConnectorError::new(
            codes::UNKNOWN_COMMENT,
            "the connector has no record of this comment on this account (never delivered, or older than 14 days)",
        ));
    };
    if public {
        return Ok(comment);
    }
    if storage.get(&keys::comment_reply(account_id, comment_id))?.is_some() {
        return Err(ConnectorError::new(
            codes::COMMENT_REPLY_USED,
            "a private reply to this comment was already sent; Instagram allows one per comment",
        ));
    }
    let closes = comment.at.saturating_add(PRIVATE_REPLY_WINDOW_MS);
    if now >= closes {
        let message =
            format!("a private reply was possible until {} (7 days after the comment)", format_rfc3339(closes));
        return Err(ConnectorError::new(codes::COMMENT_REPLY_EXPIRED, message));
    }
    Ok(comment)
}

/// Records that the comment got its one private reply (sent, or Meta said it already had one).
pub fn mark_replied(
    storage: &impl Storage,
    account_id: &str,
    comment_id: &str,
    at: TimestampMs,
) -> Result<(), StorageError> {
    storage.set(&keys::comment_reply(account_id, comment_id), at.to_string().as_bytes())
}

/// An entry's time: seconds for changes, though a value past year 5000 in seconds is taken as milliseconds.
pub(crate) fn entry_time_ms(time: u64) -> TimestampMs {
    const MAX_SECONDS: u64 = 100_000_000_000;
    if time < MAX_SECONDS { time.saturating_mul(SECOND_MS) } else { time }
}

impl<S: Storage, H: Http> Translator<'_, S, H> {
    /// One comment change: skipped when the business made it or the account filters comments, a `duplicate` when
    /// it was delivered before (ads and boosted posts deliver a comment twice), else a `comment` event.
    pub fn comment(
        &mut self,
        account: &str,
        entry_time: Option<u64>,
        live: bool,
        raw: RawComment,
    ) -> Result<Translated, StorageError> {
        let comment_id = raw.id.or(raw.comment_id).filter(|id| keys::is_valid_id(id));
        let from = raw.from.and_then(|f| Some((f.id.filter(|id| keys::is_valid_id(id))?, f.username)));
        let (Some(comment_id), Some((customer, username))) = (comment_id, from) else {
            return Ok(Translated::malformed());
        };
        if customer == account {
            // Its own comments and replies come back too: never answer them, or an automation answers itself.
            return Ok(Translated::skipped(SkipReason::OwnComment, Some(comment_id)));
        }
        let at = entry_time.map(entry_time_ms).unwrap_or(self.received_at);
        let record = CommentRecord { at, customer_id: customer.clone(), live };
        let bytes = serde_json::to_vec(&record).expect("a comment record serializes");
        if !self.storage.insert_if_absent(&keys::comment(account, &comment_id), &bytes)? {
            return Ok(Translated::skipped(SkipReason::Duplicate, Some(comment_id)));
        }
        if self.filters(account)?.skip_comments {
            return Ok(Translated::skipped_for(SkipReason::CommentFiltered, Some(comment_id), &customer));
        }
        let media = raw.media.and_then(|m| {
            Some(CommentMedia {
                id: m.id.filter(|id| keys::is_valid_id(id))?,
                product_type: m.media_product_type,
                ad_id: m.ad_id,
                ad_title: m.ad_title,
                original_media_id: m.original_media_id,
            })
        });
        // A commenter may never have written to the business: no Graph lookup (it needs their consent), only what
        // is cached from their messages, else the username the webhook gave.
        let cached = profile::cached(self.storage, account, &customer)?;
        let shown = cached.unwrap_or_else(|| CustomerProfile {
            anonymous: username.is_none(),
            username: username.clone(),
            ..CustomerProfile::default()
        });
        let comment = Comment {
            comment_id,
            parent_id: raw.parent_id,
            media,
            customer_id: customer.clone(),
            username,
            text: raw.text,
            timestamp: at,
            live,
        };
        let mut translated = Translated::of(EventKind::Comment(comment), &customer);
        translated.profile = Some(shown);
        translated.time_from_delivery = entry_time.is_none();
        Ok(translated)
    }
}
