//! Meta's webhook payloads as they arrive. Items are kept raw until translated one by one, so that a malformed
//! item costs only itself. Ids are accepted as strings or numbers, and unknown fields are ignored.

use serde::de::Visitor;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub(crate) struct Envelope<'a> {
    pub object: Option<String>,
    #[serde(borrow)]
    pub entry: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(borrow, default)]
    pub messaging: Vec<&'a RawValue>,
    /// The same items, when another app owns the thread (handover protocol): never let them vanish.
    #[serde(borrow, default)]
    pub standby: Vec<&'a RawValue>,
    /// Comments and mentions (skipped), or `messaging_handover` items in the field's `value`. Read leniently: a
    /// malformed list is one unsupported entry, never a failed delivery.
    #[serde(borrow, default)]
    pub changes: Option<&'a RawValue>,
    /// The entry's time: seconds for `changes` (comments), milliseconds for messaging. Read leniently.
    #[serde(default, deserialize_with = "lenient_time")]
    pub time: Option<u64>,
}

/// One `changes[]` item: the webhook field it belongs to, and its value.
#[derive(Deserialize)]
pub(crate) struct Change<'a> {
    #[serde(default)]
    pub field: String,
    #[serde(borrow)]
    pub value: Option<&'a RawValue>,
}

/// The field whose changes are handover items (the reference does not confirm whether Meta sends them as
/// `messaging[]` items or as `changes[]`: both are read).
pub(crate) const HANDOVER_FIELD: &str = "messaging_handover";
/// The fields whose changes are comments: on media, and on a live broadcast.
pub(crate) const COMMENTS_FIELD: &str = "comments";
pub(crate) const LIVE_COMMENTS_FIELD: &str = "live_comments";

#[derive(Deserialize)]
pub(crate) struct Party {
    #[serde(deserialize_with = "id")]
    pub id: String,
}

/// One `messaging[]` item: exactly one of the event keys is expected.
#[derive(Deserialize)]
pub(crate) struct Item {
    pub sender: Option<Party>,
    pub recipient: Option<Party>,
    /// Milliseconds. A missing or unreadable time is None (the delivery's receive time then stands in), never a
    /// failed item.
    #[serde(default, deserialize_with = "lenient_time")]
    pub timestamp: Option<u64>,
    pub message: Option<RawMessage>,
    pub message_edit: Option<RawEdit>,
    pub reaction: Option<RawReaction>,
    pub read: Option<RawRead>,
    pub postback: Option<RawPostback>,
    pub referral: Option<RawReferral>,
    pub pass_thread_control: Option<RawHandover>,
    pub take_thread_control: Option<RawHandover>,
    pub request_thread_control: Option<RawHandover>,
}

impl Item {
    /// The customer the item concerns: the recipient of the business's own echo, else the sender.
    pub fn customer_id(&self) -> Option<&str> {
        let echo = self.message.as_ref().is_some_and(|m| m.is_echo);
        let party = if echo { &self.recipient } else { &self.sender };
        party.as_ref().map(|p| p.id.as_str())
    }
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
    #[serde(default)]
    pub attachments: Vec<RawAttachment>,
    pub reply_to: Option<ReplyTo>,
    pub quick_reply: Option<QuickReply>,
    /// The ad or link that started the chat, on its first message.
    pub referral: Option<RawReferral>,
}

#[derive(Deserialize)]
pub(crate) struct RawAttachment {
    #[serde(rename = "type")]
    pub kind: String,
    pub payload: Option<RawPayload>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RawPayload {
    pub url: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub ig_post_media_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub reel_video_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub story_media_id: Option<String>,
    pub story_media_url: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ReplyTo {
    pub mid: Option<String>,
    pub story: Option<RawStory>,
}

#[derive(Deserialize)]
pub(crate) struct RawStory {
    pub url: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct QuickReply {
    pub payload: String,
}

#[derive(Deserialize)]
pub(crate) struct RawEdit {
    pub mid: String,
    pub text: Option<String>,
    /// A number in Meta's Messenger reference, a quoted string in its Instagram example: both are accepted.
    #[serde(default, deserialize_with = "opt_id")]
    pub num_edit: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawReaction {
    pub mid: String,
    pub action: String,
    pub reaction: Option<String>,
    pub emoji: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawRead {
    pub mid: Option<String>,
    pub watermark: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct RawPostback {
    pub mid: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub payload: String,
}

#[derive(Deserialize)]
pub(crate) struct RawReferral {
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    #[serde(default)]
    pub source: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub ad_id: Option<String>,
    pub ads_context_data: Option<RawAdContext>,
}

/// `referral.ads_context_data`: what Meta tells of the ad.
#[derive(Deserialize)]
pub(crate) struct RawAdContext {
    pub ad_title: Option<String>,
    pub photo_url: Option<String>,
    pub video_url: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub post_id: Option<String>,
}

/// A `comments` / `live_comments` change's `value`. The comment id is `id` (one doc example says `comment_id`).
#[derive(Deserialize)]
pub(crate) struct RawComment {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub comment_id: Option<String>,
    pub from: Option<RawCommenter>,
    pub media: Option<RawMedia>,
    #[serde(default, deserialize_with = "opt_id")]
    pub parent_id: Option<String>,
    pub text: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawCommenter {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    pub username: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawMedia {
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    pub media_product_type: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub ad_id: Option<String>,
    pub ad_title: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub original_media_id: Option<String>,
}

/// `pass_thread_control` / `take_thread_control` {`previous_owner_app_id`, `new_owner_app_id`, `metadata`}, or
/// `request_thread_control` {`requested_owner_app_id`, `metadata`}. App ids come as strings or numbers.
#[derive(Deserialize)]
pub(crate) struct RawHandover {
    #[serde(default, deserialize_with = "opt_id")]
    pub previous_owner_app_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub new_owner_app_id: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub requested_owner_app_id: Option<String>,
    pub metadata: Option<String>,
}

/// An id as Meta sends it: a string, or a number (a u64). Its own visitor rather than an untagged enum, which buffers
/// every value first (serde's `Content`, several KB of code in the component); what it accepts is the same.
struct IdText(String);

impl<'de> Deserialize<'de> for IdText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = IdText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id as a string or a number")
            }
            fn visit_str<E>(self, text: &str) -> Result<IdText, E> {
                Ok(IdText(text.to_owned()))
            }
            fn visit_string<E>(self, text: String) -> Result<IdText, E> {
                Ok(IdText(text))
            }
            fn visit_u64<E>(self, n: u64) -> Result<IdText, E> {
                Ok(IdText(n.to_string()))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    IdText::deserialize(d).map(|id| id.0)
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<IdText>::deserialize(d)?.map(|id| id.0))
}

/// A time as a number or a string of digits; anything else (absent, null, text, negative) is None, so that the
/// item still arrives.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
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

    #[test]
    fn ids_and_edit_counts_come_as_strings_or_numbers() {
        let edit: RawEdit = serde_json::from_str(r#"{"mid":"m","num_edit":"2"}"#).unwrap();
        assert_eq!(edit.num_edit.as_deref(), Some("2"));
        let edit: RawEdit = serde_json::from_str(r#"{"mid":"m","num_edit":0}"#).unwrap();
        assert_eq!(edit.num_edit.as_deref(), Some("0"));
        let party: Party = serde_json::from_str(r#"{"id":17841400000000001}"#).unwrap();
        assert_eq!(party.id, "17841400000000001");
    }

    #[test]
    fn an_id_that_is_neither_text_nor_an_unsigned_integer_refuses_its_value() {
        for id in ["-1", "-0", "1.5", "1e3", "18446744073709551616", "true", "null", "{}", "[]"] {
            assert!(serde_json::from_str::<Party>(&format!(r#"{{"id":{id}}}"#)).is_err(), "{id}");
        }
        let payload: RawPayload = serde_json::from_str(r#"{"story_media_id":null,"reel_video_id":7}"#).unwrap();
        assert_eq!((payload.story_media_id, payload.reel_video_id.as_deref()), (None, Some("7")));
    }

    #[test]
    fn times_come_as_numbers_or_digits_and_anything_else_is_none() {
        let time = |json: &str| serde_json::from_str::<Item>(json).unwrap().timestamp;
        assert_eq!(time(r#"{"timestamp":1700000000000}"#), Some(1_700_000_000_000));
        assert_eq!(time(r#"{"timestamp":"1700000000000"}"#), Some(1_700_000_000_000));
        assert_eq!(time(r#"{"timestamp":"yesterday"}"#), None);
        assert_eq!(time(r#"{"timestamp":-5}"#), None);
        assert_eq!(time(r#"{}"#), None);
    }
}
