//! Inbox events: what the helpdesk shows. Serialized as the harness CLI contract's JSON (DESIGN.md).

use crate::time::{self, TimestampMs};
use serde::Serialize;

/// One event for the inbox, attributed to the business account of its webhook entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: AttachmentType,
    pub raw_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "time::serialize_opt")]
    pub expires_at: Option<TimestampMs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoryRef {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub expires_at: TimestampMs,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Message {
    pub message_id: String,
    pub customer_id: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReactionAction {
    React,
    Unreact,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Reaction {
    pub message_id: String,
    pub customer_id: String,
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub action: ReactionAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MessageRef {
    pub message_id: String,
    pub customer_id: String,
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MessageEdit {
    pub message_id: String,
    pub customer_id: String,
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReadReceipt {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "time::serialize_opt")]
    pub watermark: Option<TimestampMs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Postback {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub customer_id: String,
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub title: String,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Referral {
    pub customer_id: String,
    #[serde(serialize_with = "time::serialize")]
    pub timestamp: TimestampMs,
    pub source: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    Duplicate,
    StoryMentionFiltered,
    ShareFiltered,
    OwnSendEcho,
    Unsupported,
    MalformedItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Skipped {
    pub reason: SkipReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// How control of a conversation moved between apps (`messaging_handover`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HandoverAction {
    Pass,
    Take,
    Request,
}

/// Which app holds a customer's conversation after a change of control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Handover {
    pub customer_id: String,
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
