//! Inbound translation: one signed webhook delivery in, inbox events out, each delivered once.

use crate::error::{ConnectorError, codes};
use crate::events::{CustomerProfile, EventKind, InboxEvent, Message, SkipReason, Skipped};
use crate::keys;
use crate::ports::{Http, Storage, StorageError};
use crate::profile;
use crate::settings::Filters;
use crate::signature;
use crate::time::TimestampMs;
use crate::webhook::{Entry, Envelope, Item, RawMessage};
use std::collections::HashMap;

/// Real deliveries are a few KB; this is generous.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Real deliveries nest 6 deep.
pub const MAX_JSON_DEPTH: usize = 32;

/// A webhook POST as the host received it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub received_at: TimestampMs,
}

/// How to translate one delivery.
#[derive(Debug, Clone, Copy)]
pub struct TranslateOptions<'a> {
    pub app_secret: &'a str,
    /// Filters for every account of this delivery, instead of the stored ones.
    pub filters: Option<Filters>,
}

/// Verifies, parses and translates a delivery. Nothing is stored unless the signature is valid and the payload
/// readable; a storage failure fails the whole delivery so that the host does not acknowledge it.
pub fn translate(
    delivery: &Delivery<'_>,
    options: &TranslateOptions<'_>,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Vec<InboxEvent>, ConnectorError> {
    if delivery.body.len() > MAX_BODY_BYTES {
        let message = format!("the body has {} bytes; at most {MAX_BODY_BYTES} are accepted", delivery.body.len());
        return Err(ConnectorError::new(codes::PAYLOAD_TOO_LARGE, message));
    }
    let header = delivery.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(signature::HEADER));
    if options.app_secret.is_empty()
        || !signature::is_valid(options.app_secret.as_bytes(), delivery.body, header.map(|(_, v)| v.as_str()))
    {
        let message = if header.is_some() {
            "X-Hub-Signature-256 does not match the body"
        } else {
            "X-Hub-Signature-256 is missing"
        };
        return Err(ConnectorError::new(codes::BAD_SIGNATURE, message));
    }
    let envelope = parse_envelope(delivery.body)?;
    let mut translator = Translator { storage, http, received_at: delivery.received_at, profiles: HashMap::new() };
    let mut events = Vec::new();
    for raw_entry in envelope.entry.unwrap_or_default() {
        let Ok(entry) = serde_json::from_str::<Entry<'_>>(raw_entry.get()) else {
            events.push(skipped(String::new(), SkipReason::MalformedItem, None));
            continue;
        };
        if !keys::is_valid_id(&entry.id) {
            events.push(skipped(String::new(), SkipReason::MalformedItem, None));
            continue;
        }
        if entry.changes.is_some() && entry.messaging.is_empty() && entry.standby.is_empty() {
            events.push(skipped(entry.id.clone(), SkipReason::Unsupported, None));
        }
        for raw_item in entry.messaging.iter().chain(&entry.standby) {
            let kind = match serde_json::from_str::<Item>(raw_item.get()) {
                Ok(item) => translator.item(&entry.id, item).map_err(storage_unavailable)?,
                Err(_) => EventKind::Skipped(Skipped { reason: SkipReason::MalformedItem, message_id: None }),
            };
            events.push(InboxEvent { account_id: entry.id.clone(), kind });
        }
    }
    Ok(events)
}

fn parse_envelope(body: &[u8]) -> Result<Envelope<'_>, ConnectorError> {
    let malformed = |why: &str| ConnectorError::new(codes::MALFORMED_PAYLOAD, why);
    let text = std::str::from_utf8(body).map_err(|_| malformed("the body is not UTF-8 JSON"))?;
    if text.trim().is_empty() {
        return Err(malformed("the body is empty"));
    }
    if crate::webhook::nests_deeper_than(body, MAX_JSON_DEPTH) {
        return Err(malformed("the body nests deeper than any Instagram delivery"));
    }
    let envelope: Envelope<'_> =
        serde_json::from_str(text).map_err(|e| malformed(&format!("the body is not a webhook delivery: {e}")))?;
    match envelope.object.as_deref() {
        Some("instagram") if envelope.entry.is_some() => Ok(envelope),
        Some("instagram") => Err(malformed("the delivery has no `entry` list")),
        Some(other) => Err(ConnectorError::new(
            codes::UNSUPPORTED_OBJECT,
            format!("object {other:?} is not an Instagram delivery"),
        )),
        None => Err(malformed("the delivery has no `object`")),
    }
}

fn storage_unavailable(error: StorageError) -> ConnectorError {
    ConnectorError::new(codes::STORAGE_UNAVAILABLE, format!("storage failed, the delivery must be retried: {error:?}"))
}

fn skipped(account_id: String, reason: SkipReason, message_id: Option<String>) -> InboxEvent {
    InboxEvent { account_id, kind: EventKind::Skipped(Skipped { reason, message_id }) }
}

struct Translator<'a, S, H> {
    storage: &'a S,
    http: &'a H,
    received_at: TimestampMs,
    /// Profiles already looked up in this delivery, so a batch asks Graph (and waits on it) once per customer.
    profiles: HashMap<(String, String), CustomerProfile>,
}

impl<S: Storage, H: Http> Translator<'_, S, H> {
    fn item(&mut self, account_id: &str, item: Item) -> Result<EventKind, StorageError> {
        let skip = |reason, message_id| Ok(EventKind::Skipped(Skipped { reason, message_id }));
        let (Some(sender), Some(recipient), Some(timestamp)) = (item.sender, item.recipient, item.timestamp) else {
            return skip(SkipReason::MalformedItem, None);
        };
        let Some(message) = item.message else { return skip(SkipReason::Unsupported, None) };
        let customer_id = if message.is_echo { recipient.id } else { sender.id };
        if !keys::is_valid_id(&customer_id) || message.mid.is_empty() {
            return skip(SkipReason::MalformedItem, None);
        }
        if !is_plain_text(&message) {
            return skip(SkipReason::Unsupported, Some(message.mid));
        }
        if let Some(reason) = self.first_sighting(&message)? {
            return skip(reason, Some(message.mid));
        }
        let customer = self.profile(account_id, &customer_id)?;
        let is_echo = message.is_echo;
        let message = Message {
            message_id: message.mid,
            customer_id,
            timestamp,
            text: message.text,
            attachments: Vec::new(),
            story: None,
            reply_to: message.reply_to.and_then(|r| r.mid),
            quick_reply: message.quick_reply.map(|q| q.payload),
            customer,
        };
        Ok(if is_echo { EventKind::Echo(message) } else { EventKind::CustomerMessage(message) })
    }

    /// Marks the message as seen, atomically; the reason to skip it when it was seen before.
    fn first_sighting(&self, message: &RawMessage) -> Result<Option<SkipReason>, StorageError> {
        let key = keys::seen_message(&message.mid);
        if self.storage.insert_if_absent(&key, keys::SEEN_INBOUND)? {
            return Ok(None);
        }
        let sent_by_us = message.is_echo && self.storage.get(&key)?.as_deref() == Some(keys::SEEN_SENT);
        Ok(Some(if sent_by_us { SkipReason::OwnSendEcho } else { SkipReason::Duplicate }))
    }

    fn profile(&mut self, account_id: &str, customer_id: &str) -> Result<CustomerProfile, StorageError> {
        let memo_key = (account_id.to_owned(), customer_id.to_owned());
        if let Some(known) = self.profiles.get(&memo_key) {
            return Ok(known.clone());
        }
        let found = profile::lookup(self.storage, self.http, account_id, customer_id, self.received_at)?;
        self.profiles.insert(memo_key, found.clone());
        Ok(found)
    }
}

/// The kinds this version translates: text, with an optional inline reply or quick reply.
fn is_plain_text(message: &RawMessage) -> bool {
    let replies_to_story = message.reply_to.as_ref().is_some_and(|r| r.story.is_some());
    message.text.is_some()
        && message.attachments.is_none()
        && !message.is_deleted
        && !message.is_unsupported
        && !replies_to_story
}

/// Answers Meta's subscription handshake: the challenge when the mode is `subscribe` and the token matches.
pub fn verify_subscription(
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Result<String, ConnectorError> {
    let token_matches =
        verify_token.is_some_and(|t| !expected_token.is_empty() && crate::hex::constant_time_eq(t, expected_token));
    match (mode, challenge) {
        (Some("subscribe"), Some(challenge)) if token_matches => Ok(challenge.to_owned()),
        _ => Err(ConnectorError::new(codes::VERIFICATION_FAILED, "the handshake's mode, token or challenge is wrong")),
    }
}
