//! Well-formed webhook deliveries, generated: any mix of kinds, batches over several entries (some in `standby`,
//! as another app's conversations arrive), any text. Each generated item says what event it must become.

use proptest::prelude::*;
use serde_json::{Value, json};

/// What one generated item must turn into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub account_id: String,
    pub kind: &'static str,
    pub message_id: Option<String>,
    pub text: Option<String>,
    /// The item came in the entry's `standby` list: the event must say so.
    pub standby: bool,
}

/// A delivery: its body (in either encoding) and the events it must give, in order.
#[derive(Debug, Clone)]
pub struct Generated {
    pub body: Vec<u8>,
    pub expected: Vec<Expected>,
}

#[derive(Debug, Clone)]
enum Kind {
    Text(String),
    Echo(String),
    Image,
    React,
    Unreact,
    Read,
    Postback(String),
    Referral,
    Edit(String),
    Unsend,
    /// A change of thread control, with its metadata.
    Handover(String),
}

fn kind() -> impl Strategy<Value = Kind> {
    // Any Unicode scalar values, as Meta would carry them: emoji, Hangul, controls, quotes, slashes.
    let text =
        || proptest::collection::vec(any::<char>(), 1..40).prop_map(|chars| chars.into_iter().collect::<String>());
    prop_oneof![
        3 => text().prop_map(Kind::Text),
        1 => text().prop_map(Kind::Echo),
        1 => Just(Kind::Image),
        1 => Just(Kind::React),
        1 => Just(Kind::Unreact),
        1 => Just(Kind::Read),
        1 => text().prop_map(Kind::Postback),
        1 => Just(Kind::Referral),
        1 => text().prop_map(Kind::Edit),
        1 => Just(Kind::Unsend),
        1 => text().prop_map(Kind::Handover),
    ]
}

/// Deliveries of 1 to 3 entries with 1 to 5 items each. `nonce` keeps ids and times apart between cases that share
/// a store.
pub fn delivery() -> impl Strategy<Value = Generated> {
    let entry = (0..2usize, proptest::bool::weighted(0.2), proptest::collection::vec((kind(), 0..3usize), 1..6));
    (proptest::collection::vec(entry, 1..4), any::<u32>(), any::<bool>())
        .prop_map(|(entries, nonce, escaped)| build(&entries, nonce, escaped))
}

/// One entry: its account's index, whether its items come in `standby`, and each item with its customer's index.
type Entry = (usize, bool, Vec<(Kind, usize)>);

fn build(entries: &[Entry], nonce: u32, escaped: bool) -> Generated {
    let mut expected = Vec::new();
    let mut json_entries = Vec::new();
    let mut serial = 0u64;
    for (account_index, standby, items) in entries {
        let account = format!("1784140000000000{}", account_index + 1);
        let mut messaging = Vec::new();
        for (kind, customer_index) in items {
            serial += 1;
            let customer = format!("109876543210000{}", customer_index + 1);
            let mid = format!("gen-{nonce}-{serial}-mid");
            let at = 1_794_474_843_512u64 + u64::from(nonce) * 1_000 + serial;
            let (item, kind_name, message_id, text) = item(kind, &account, &customer, &mid, at);
            messaging.push(item);
            expected.push(Expected {
                account_id: account.clone(),
                kind: kind_name,
                message_id,
                text,
                standby: *standby,
            });
        }
        let list = if *standby { "standby" } else { "messaging" };
        json_entries.push(json!({"time": 1_794_474_843_903u64, "id": account, list: messaging}));
    }
    let body = serde_json::to_string(&json!({"object": "instagram", "entry": json_entries})).unwrap();
    let body = if escaped { escape_like_meta(&body) } else { body };
    Generated { body: body.into_bytes(), expected }
}

fn item(
    kind: &Kind,
    account: &str,
    customer: &str,
    mid: &str,
    at: u64,
) -> (Value, &'static str, Option<String>, Option<String>) {
    let from = |event: Value| {
        let mut item = json!({"sender": {"id": customer}, "recipient": {"id": account}, "timestamp": at});
        item.as_object_mut().unwrap().extend(event.as_object().unwrap().clone());
        item
    };
    let target = format!("{mid}-target");
    match kind {
        Kind::Text(text) => (
            from(json!({"message": {"mid": mid, "text": text}})),
            "customer-message",
            Some(mid.into()),
            Some(text.clone()),
        ),
        Kind::Echo(text) => {
            let item = json!({"sender": {"id": account}, "recipient": {"id": customer}, "timestamp": at, "message": {"mid": mid, "text": text, "is_echo": true}});
            (item, "echo", Some(mid.into()), Some(text.clone()))
        }
        Kind::Image => {
            let attachment = json!({"type": "image", "payload": {"url": format!("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id={at}")}});
            (
                from(json!({"message": {"mid": mid, "attachments": [attachment]}})),
                "customer-message",
                Some(mid.into()),
                None,
            )
        }
        Kind::React => (
            from(
                json!({"reaction": {"mid": target, "action": "react", "reaction": "love", "emoji": "\u{2764}\u{fe0f}"}}),
            ),
            "reaction",
            Some(target),
            None,
        ),
        Kind::Unreact => {
            (from(json!({"reaction": {"mid": target, "action": "unreact"}})), "reaction", Some(target), None)
        }
        Kind::Read => (from(json!({"read": {"mid": target}})), "read", Some(target), None),
        Kind::Postback(title) => (
            from(json!({"postback": {"mid": mid, "title": title, "payload": "P"}})),
            "postback",
            Some(mid.into()),
            None,
        ),
        Kind::Referral => (
            from(json!({"referral": {"ref": "r", "source": "SHORTLINK", "type": "OPEN_THREAD"}})),
            "referral",
            None,
            None,
        ),
        Kind::Edit(text) => (
            from(json!({"message_edit": {"mid": target, "text": text, "num_edit": 1}})),
            "message-edited",
            Some(target),
            Some(text.clone()),
        ),
        Kind::Unsend => {
            (from(json!({"message": {"mid": target, "is_deleted": true}})), "message-deleted", Some(target), None)
        }
        Kind::Handover(metadata) => {
            let control =
                json!({"previous_owner_app_id": "263902037430900", "new_owner_app_id": at, "metadata": metadata});
            (from(json!({"pass_thread_control": control})), "handover", None, None)
        }
    }
}

/// Meta's wire form: every non-ASCII character as `\uXXXX` (astral ones as surrogate pairs) and `/` as `\/`. Both
/// occur only inside strings in compact JSON, so the text can be rewritten character by character.
pub fn escape_like_meta(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    for c in json.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}
