//! Outbound replies: validated into a send plan before anything is sent, then sent in order.

mod budget;
mod report;
mod request;
mod send;
mod split;

pub use budget::{MEDIA_PER_SECOND, TEXT_PER_SECOND};
pub use report::{Invalid, PlanReport};
pub use request::{ReplyAttachment, ReplyRequest, WindowSource, parse_api_request, parse_request};
pub use send::{DeliveryStatus, Retry, SendError, send};
pub use split::{MAX_PARTS, MAX_TEXT_BYTES, split};

use crate::error::ConnectorError;
use crate::keys;
use crate::time::{DAY_MS, TimestampMs, format_rfc3339};
use serde::{Deserialize, Serialize};

/// The outbound error codes.
pub mod codes {
    pub const EMPTY_MESSAGE: &str = "empty-message";
    pub const WINDOW_CLOSED: &str = "window-closed";
    pub const UNSUPPORTED_IMAGE_TYPE: &str = "unsupported-image-type";
    pub const UNSUPPORTED_ATTACHMENT_TYPE: &str = "unsupported-attachment-type";
    pub const IMAGE_TOO_LARGE: &str = "image-too-large";
    pub const ATTACHMENT_TOO_LARGE: &str = "attachment-too-large";
    pub const TOO_MANY_ATTACHMENTS: &str = "too-many-attachments";
    pub const INVALID_ATTACHMENT_URL: &str = "invalid-attachment-url";
    pub const INVALID_CUSTOMER_ID: &str = "invalid-customer-id";
    pub const TEXT_TOO_LONG: &str = "text-too-long";
    pub const TEXT_UNSPLITTABLE: &str = "text-unsplittable";
}

/// The standard window after the customer's last message: any reply.
pub const STANDARD_WINDOW_MS: u64 = DAY_MS;
/// The human-agent window: only a person, only with the HUMAN_AGENT tag.
pub const HUMAN_AGENT_WINDOW_MS: u64 = 7 * DAY_MS;
/// The helpdesk's rule (stricter than Meta's 8 MB read as binary): decimal bytes.
pub const MAX_IMAGE_BYTES: u64 = 8_000_000;
/// Meta's limit for video, audio and files, read as decimal bytes.
pub const MAX_MEDIA_BYTES: u64 = 25_000_000;
/// Attachments per reply; each is its own message.
pub const MAX_ATTACHMENTS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Agent,
    Bot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingAttachment {
    pub url: String,
    pub mime_type: String,
    pub size_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub account_id: String,
    pub customer_id: String,
    pub now: TimestampMs,
    pub author: Author,
    pub last_customer_message_at: TimestampMs,
    pub human_agent_tag: bool,
    pub text: Option<String>,
    pub attachments: Vec<OutgoingAttachment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaType {
    Image,
    Video,
    Audio,
    File,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
        }
    }
}

/// One message of a plan: `{"text": ...}` or `{"attachment": {"type": ..., "url": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlannedMessage {
    Text(String),
    Attachment(PlannedAttachment),
}

/// An attachment to send, by its public link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAttachment {
    #[serde(rename = "type")]
    pub kind: MediaType,
    pub url: String,
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

/// Checks a reply against Instagram's and the helpdesk's rules; every problem at once.
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
    let window = window(reply).map_err(|e| errors.push(e)).ok();
    let text = reply.text.as_deref().filter(|t| !t.trim().is_empty());
    if text.is_none() && reply.attachments.is_empty() {
        errors.push(ConnectorError::new(codes::EMPTY_MESSAGE, "the reply has no text and no attachment"));
    }
    let mut messages = Vec::new();
    match text.map(split).transpose() {
        Ok(parts) => messages.extend(parts.into_iter().flatten().map(PlannedMessage::Text)),
        Err(error) => errors.push(error),
    }
    if reply.attachments.len() > MAX_ATTACHMENTS {
        let message = format!(
            "a reply can carry at most {MAX_ATTACHMENTS} attachments; this one has {}",
            reply.attachments.len()
        );
        errors.push(ConnectorError::new(codes::TOO_MANY_ATTACHMENTS, message));
    }
    for (index, attachment) in reply.attachments.iter().enumerate() {
        match check_attachment(attachment) {
            Ok(kind) => {
                messages.push(PlannedMessage::Attachment(PlannedAttachment { kind, url: attachment.url.clone() }))
            }
            Err(error) => {
                errors.push(ConnectorError { message: format!("attachment {}: {}", index + 1, error.message), ..error })
            }
        }
    }
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

/// The tag to send with and when the window closes, or why nothing may be sent now.
fn window(reply: &Reply) -> Result<(Option<MessageTag>, TimestampMs), ConnectorError> {
    let standard_end = reply.last_customer_message_at.saturating_add(STANDARD_WINDOW_MS);
    let human_end = reply.last_customer_message_at.saturating_add(HUMAN_AGENT_WINDOW_MS);
    if reply.now < standard_end {
        return Ok((None, standard_end));
    }
    let closed = |at: TimestampMs, why: &str| {
        let message = format!("the messaging window closed at {}: {why}", format_rfc3339(at));
        Err(ConnectorError::new(codes::WINDOW_CLOSED, message))
    };
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

fn check_attachment(attachment: &OutgoingAttachment) -> Result<MediaType, ConnectorError> {
    let url = attachment.url.trim();
    let host = url.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    if host.is_none_or(str::is_empty) || url.chars().any(char::is_whitespace) {
        return Err(ConnectorError::new(
            codes::INVALID_ATTACHMENT_URL,
            "the link must be a public https:// URL that Meta can download",
        ));
    }
    let mime = attachment.mime_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let kind = match mime.as_str() {
        "image/jpeg"
        | "image/jpg"
        | "image/pjpeg"
        | "image/png"
        | "image/x-icon"
        | "image/vnd.microsoft.icon"
        | "image/bmp"
        | "image/x-bmp"
        | "image/x-ms-bmp" => MediaType::Image,
        m if m.starts_with("image/") => {
            let message = format!("{mime} images cannot be sent to Instagram; use JPG, PNG, ICO or BMP");
            return Err(ConnectorError::new(codes::UNSUPPORTED_IMAGE_TYPE, message));
        }
        "video/mp4" | "video/ogg" | "video/x-msvideo" | "video/avi" | "video/quicktime" | "video/webm" => {
            MediaType::Video
        }
        "audio/aac" | "audio/x-aac" | "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "audio/wav" | "audio/x-wav"
        | "audio/wave" | "audio/vnd.wave" => MediaType::Audio,
        "application/pdf" => MediaType::File,
        _ => {
            let message = format!(
                "{mime:?} cannot be sent to Instagram (images: JPG, PNG, ICO, BMP; video: MP4, OGG, AVI, MOV, WEBM; audio: AAC, M4A, WAV; files: PDF)"
            );
            return Err(ConnectorError::new(codes::UNSUPPORTED_ATTACHMENT_TYPE, message));
        }
    };
    let (limit, code) = match kind {
        MediaType::Image => (MAX_IMAGE_BYTES, codes::IMAGE_TOO_LARGE),
        _ => (MAX_MEDIA_BYTES, codes::ATTACHMENT_TOO_LARGE),
    };
    if attachment.size_bytes > limit {
        let message = format!(
            "{} bytes is over the {} limit of {limit} bytes ({} MB, decimal)",
            attachment.size_bytes,
            kind.as_str(),
            limit / 1_000_000
        );
        return Err(ConnectorError::new(code, message));
    }
    Ok(kind)
}
