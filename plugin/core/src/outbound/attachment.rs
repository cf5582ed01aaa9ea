//! Attachments of a reply: by a public link that Meta downloads, or by the id of media Meta kept from an earlier
//! send. The same type rules apply to both; sizes are checked on the link.

use super::checks::is_https_link;
use super::codes;
use crate::error::ConnectorError;
use crate::keys;
use serde::{Deserialize, Serialize};

/// The helpdesk's rule (stricter than Meta's 8 MB read as binary): decimal bytes.
pub const MAX_IMAGE_BYTES: u64 = 8_000_000;
/// Meta's limit for video, audio and files, read as decimal bytes.
pub const MAX_MEDIA_BYTES: u64 = 25_000_000;
/// Attachments per reply; each is its own message.
pub const MAX_ATTACHMENTS: usize = 10;

/// A file to send: `url` (with `size_bytes`), or `attachment_id` (with an empty `url`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutgoingAttachment {
    pub url: String,
    pub mime_type: String,
    pub size_bytes: u64,
    pub attachment_id: Option<String>,
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

/// An attachment to send, by its public link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAttachment {
    #[serde(rename = "type")]
    pub kind: MediaType,
    pub url: String,
}

/// Media Meta kept from an earlier send, by its id: `{"type","attachment-id"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReusedAttachment {
    #[serde(rename = "type")]
    pub kind: MediaType,
    pub attachment_id: String,
}

/// The planned message of one attachment, or the first rule it breaks.
pub(super) fn check(attachment: &OutgoingAttachment) -> Result<super::PlannedMessage, ConnectorError> {
    let url = attachment.url.trim();
    if let Some(id) = &attachment.attachment_id {
        if !url.is_empty() {
            return Err(ConnectorError::new(
                codes::CONFLICTING_ATTACHMENT_SOURCE,
                "an attachment is sent by its link or by its attachment id, not both",
            ));
        }
        if !keys::is_valid_id(id) {
            return Err(ConnectorError::new(
                codes::INVALID_ATTACHMENT_ID,
                "an attachment id is 1 to 128 letters, digits, `_` or `-`, as a send report gave it",
            ));
        }
        let kind = media_type(&attachment.mime_type)?;
        return Ok(super::PlannedMessage::ReusedAttachment(ReusedAttachment { kind, attachment_id: id.clone() }));
    }
    if !is_https_link(url) {
        return Err(ConnectorError::new(
            codes::INVALID_ATTACHMENT_URL,
            "the link must be a public https:// URL that Meta can download",
        ));
    }
    let kind = media_type(&attachment.mime_type)?;
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
    Ok(super::PlannedMessage::Attachment(PlannedAttachment { kind, url: attachment.url.clone() }))
}

fn media_type(mime_type: &str) -> Result<MediaType, ConnectorError> {
    let mime = mime_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    Ok(match mime.as_str() {
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
    })
}
