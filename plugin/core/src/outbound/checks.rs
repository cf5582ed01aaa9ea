//! Checks that add to a list instead of stopping at the first failure, so that a reply (or an account's profile
//! setting) names every broken rule at once. `at` says where, e.g. "card 2, button 1".

use super::codes;
use super::limits::{MAX_PAYLOAD_CHARS, MAX_URL_BYTES};
use crate::error::ConnectorError;

/// Meta's limits count characters: Unicode scalar values, the stricter reading for emoji.
pub(crate) fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Whether `url` is a public `https://` link with a host and no whitespace: what Meta can open or download.
pub(crate) fn is_https_link(url: &str) -> bool {
    let host = url.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    host.is_some_and(|h| !h.is_empty()) && !url.chars().any(char::is_whitespace)
}

/// A label the customer sees: what it is called, at most how many characters, and the codes when it is empty or
/// longer.
pub(crate) struct Label {
    pub noun: &'static str,
    pub max_chars: usize,
    pub missing: &'static str,
    pub too_long: &'static str,
}

impl Label {
    /// A title of at most `max_chars` characters; `missing-title` when empty.
    pub(crate) const fn title(max_chars: usize, too_long: &'static str) -> Self {
        Self { noun: "title", max_chars, missing: codes::MISSING_TITLE, too_long }
    }

    /// Adds to `errors` when `text` is blank or longer than allowed.
    pub(crate) fn check(&self, errors: &mut Vec<ConnectorError>, at: &str, text: &str) {
        let Self { noun, max_chars, .. } = self;
        if text.trim().is_empty() {
            errors.push(ConnectorError::new(self.missing, format!("{at}: the {noun} is empty")));
        } else if chars(text) > *max_chars {
            let message = format!("{at}: the {noun} has {} characters; at most {max_chars} are allowed", chars(text));
            errors.push(ConnectorError::new(self.too_long, message));
        }
    }
}

/// What a tap sends back: not blank, and at most `MAX_PAYLOAD_CHARS` characters.
pub(crate) fn payload(errors: &mut Vec<ConnectorError>, at: &str, text: &str) {
    if text.trim().is_empty() {
        errors.push(ConnectorError::new(codes::MISSING_PAYLOAD, format!("{at}: the payload is empty")));
    } else if chars(text) > MAX_PAYLOAD_CHARS {
        let message =
            format!("{at}: the payload has {} characters; at most {MAX_PAYLOAD_CHARS} are allowed", chars(text));
        errors.push(ConnectorError::new(codes::PAYLOAD_TOO_LONG, message));
    }
}

/// A link on a card or a button: `https://`, and at most `MAX_URL_BYTES` long.
pub(crate) fn link(errors: &mut Vec<ConnectorError>, at: &str, url: &str) {
    if !is_https_link(url) || url.len() > MAX_URL_BYTES {
        let message = format!("{at}: the link must be an https:// URL of at most {MAX_URL_BYTES} bytes");
        errors.push(ConnectorError::new(codes::INVALID_URL, message));
    }
}

/// At most `max` of something (`code` when over).
pub(crate) fn count(errors: &mut Vec<ConnectorError>, what: &str, count: usize, max: usize, code: &str) {
    if count > max {
        errors.push(ConnectorError::new(code, format!("at most {max} {what} are allowed; there are {count}")));
    }
}
