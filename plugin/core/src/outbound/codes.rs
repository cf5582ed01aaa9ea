//! The outbound error codes: stable, kebab-case, one per broken rule.

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

// Media by id.
pub const INVALID_ATTACHMENT_ID: &str = "invalid-attachment-id";
pub const CONFLICTING_ATTACHMENT_SOURCE: &str = "conflicting-attachment-source";

// Quick replies, cards, buttons (and the persistent menu's buttons).
pub const QUICK_REPLIES_NEED_TEXT: &str = "quick-replies-need-text";
pub const TOO_MANY_QUICK_REPLIES: &str = "too-many-quick-replies";
pub const QUICK_REPLY_TITLE_TOO_LONG: &str = "quick-reply-title-too-long";
pub const MISSING_TITLE: &str = "missing-title";
pub const MISSING_PAYLOAD: &str = "missing-payload";
pub const PAYLOAD_TOO_LONG: &str = "payload-too-long";
pub const TOO_MANY_CARDS: &str = "too-many-cards";
pub const CARD_TITLE_TOO_LONG: &str = "card-title-too-long";
pub const CARD_SUBTITLE_TOO_LONG: &str = "card-subtitle-too-long";
pub const CARD_NEEDS_CONTENT: &str = "card-needs-content";
pub const TOO_MANY_BUTTONS: &str = "too-many-buttons";
pub const BUTTON_TITLE_TOO_LONG: &str = "button-title-too-long";
pub const INVALID_URL: &str = "invalid-url";

// Sender actions, reactions, thread control.
pub const ACTION_NOT_ALONE: &str = "action-not-alone";
pub const INVALID_MESSAGE_ID: &str = "invalid-message-id";
pub const INVALID_REACTION: &str = "invalid-reaction";
pub const INVALID_APP_ID: &str = "invalid-app-id";
pub const UNEXPECTED_TARGET_APP: &str = "unexpected-target-app";
pub const METADATA_TOO_LONG: &str = "metadata-too-long";
