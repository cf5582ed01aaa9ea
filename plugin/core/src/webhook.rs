//! Meta's webhook payloads as they arrive. Items are kept raw until translated one by one, so that a malformed
//! item costs only itself.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub(crate) struct Envelope<'a> {
    pub object: Option<String>,
    #[serde(borrow)]
    pub entry: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
pub(crate) struct Entry<'a> {
    pub id: String,
    #[serde(borrow, default)]
    pub messaging: Vec<&'a RawValue>,
    /// The same items, when another app owns the thread (handover protocol): never let them vanish.
    #[serde(borrow, default)]
    pub standby: Vec<&'a RawValue>,
    pub changes: Option<IgnoredAny>,
}

#[derive(Deserialize)]
pub(crate) struct Party {
    pub id: String,
}

#[derive(Deserialize)]
pub(crate) struct Item {
    pub sender: Option<Party>,
    pub recipient: Option<Party>,
    pub timestamp: Option<u64>,
    pub message: Option<RawMessage>,
}

#[derive(Deserialize)]
pub(crate) struct RawMessage {
    pub mid: String,
    pub text: Option<String>,
    #[serde(default)]
    pub is_echo: bool,
    #[serde(default)]
    pub is_deleted: bool,
    #[serde(default)]
    pub is_unsupported: bool,
    pub attachments: Option<IgnoredAny>,
    pub reply_to: Option<ReplyTo>,
    pub quick_reply: Option<QuickReply>,
}

#[derive(Deserialize)]
pub(crate) struct ReplyTo {
    pub mid: Option<String>,
    pub story: Option<IgnoredAny>,
}

#[derive(Deserialize)]
pub(crate) struct QuickReply {
    pub payload: String,
}

/// Whether JSON `text` nests deeper than `limit` arrays and objects. Checked before parsing, so that no parser
/// recursion (or raw capture) ever meets a hostile depth.
pub(crate) fn nests_deeper_than(text: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert!(!nests_deeper_than(br#"{"a":"[[[[[[\"[[[["}"#, 2));
        assert!(nests_deeper_than(b"[[[", 2));
        assert!(!nests_deeper_than(b"[[]]", 2));
    }
}
