//! Inbox events: what the helpdesk shows. Serialized as the harness CLI contract's JSON (DESIGN.md).

use crate::time::{self, TimestampMs};
use serde::Serialize;

/// One event for the inbox, attributed to the business account of its webhook entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct InboxEvent {
    pub account_id: String,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The customer concerned, when known (identity keys for merging records: account id + IGSID + username).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerProfile>,
    /// The item came in `standby`: another app holds the conversation, and this app's replies fail until control
    /// is passed to it. Printed only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub standby: bool,
    /// Brought in by a history backfill (the Conversations API), not by a webhook. Printed only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub backfill: bool,
    /// The item's own time was missing or unreadable: `timestamp` is when the delivery was received. Printed only
    /// when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub time_from_delivery: bool,
}

impl InboxEvent {
    /// An event of an account, with none of the optional marks.
    pub fn new(account_id: String, kind: EventKind, customer: Option<CustomerProfile>) -> Self {
        Self { account_id, kind, customer, standby: false, backfill: false, time_from_delivery: false }
    }

    /// The customer and the time, when this event opens (or renews) the 24-hour messaging window as Meta counts
    /// it: a message from the customer (story replies and mentions included), a postback, or a referral. Echoes,
    /// reactions, reads, edits and unsends do not.
    pub fn opens_window(&self) -> Option<(&str, TimestampMs)> {
        match &self.kind {
            EventKind::CustomerMessage(m) => Some((&m.customer_id, m.timestamp)),
            EventKind::Postback(p) => Some((&p.customer_id, p.timestamp)),
            EventKind::Referral(r) => Some((&r.customer_id, r.timestamp)),
            _ => None,
        }
    }
}

/// What happened, tagged by `kind`; its fields sit beside the event's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKind {
    CustomerMessage(Message),
    Echo(Message),
    Reaction(Reaction),
    MessageDeleted(MessageRef),
    MessageEdited(MessageEdit),
    Read(ReadReceipt),
    Postback(Postback),
    Referral(Referral),
    Skipped(Skipped),
    Handover(Handover),
    Comment(Comment),
}

/// What an attachment holds, as the connector classifies it (`raw-type` is Meta's own word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentType {
    Image,
    Video,
    Audio,
    File,
    Share,
    StoryMention,
    IgReel,
    IgPost,
    Unknown,
}

/// An attachment of a customer's message; Meta's CDN links expire (`expires-at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: AttachmentType,
    pub raw_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "time::serialize_opt")]
    pub expires_at: Option<TimestampMs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

/// The story a message replies to or mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct StoryRef {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub expires_at: TimestampMs,
}

/// The customer as their profile shows them; `profile-pending` while it is still being looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct CustomerProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_pic: Option<String>,
    pub anonymous: bool,
    pub profile_pending: bool,
}

/// A message: from the customer (`customer-message`) or sent from the account (`echo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Message {
    pub message_id: String,
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub attachments: Vec<Attachment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<StoryRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_reply: Option<String>,
}

/// Whether a reaction was added or taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ReactionAction {
    React,
    Unreact,
}

/// A customer's reaction to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Reaction {
    pub message_id: String,
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub action: ReactionAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

/// A message the customer deleted (unsent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct MessageRef {
    pub message_id: String,
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
}

/// A message the customer edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct MessageEdit {
    pub message_id: String,
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_count: Option<u32>,
}

/// The customer read the conversation up to a message (or a time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct ReadReceipt {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "time::serialize_opt")]
    pub watermark: Option<TimestampMs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
}

/// The customer tapped a button or an ice breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Postback {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub title: String,
    pub payload: String,
}

/// The customer came from an ad, a link or another referral source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Referral {
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub source: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_type: Option<String>,
    /// The ad the customer came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_context: Option<AdContext>,
    /// The message this referral came with (an ad-started chat's first message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// What Meta tells of the ad a customer came from (`ads_context_data`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct AdContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
}

/// The media a comment is on; `type` is Meta's `media_product_type` as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct CommentMedia {
    pub id: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_media_id: Option<String>,
}

/// A customer's comment on the business's media (`comments`, `live_comments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Comment {
    pub comment_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<CommentMedia>,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    /// On a live broadcast (`live_comments`). Printed only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
}

/// Why an item opened no conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Duplicate,
    StoryMentionFiltered,
    ShareFiltered,
    OwnSendEcho,
    Unsupported,
    MalformedItem,
    OwnComment,
    CommentFiltered,
}

/// An item that opens no conversation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Skipped {
    pub reason: SkipReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The customer concerned, when known: something that cannot be shown still belongs to a conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

/// How control of a conversation moved between apps (`messaging_handover`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum HandoverAction {
    Pass,
    Take,
    Request,
}

/// Which app holds a customer's conversation after a change of control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct Handover {
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub action: HandoverAction,
    /// The app that holds it now (pass, take); a request changes no owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_owner_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_owner_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
}
