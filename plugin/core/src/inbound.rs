//! Inbound translation: one signed webhook delivery in, inbox events out, each delivered once.

use crate::error::{ConnectorError, codes};
use crate::events::{EventKind, InboxEvent, SkipReason, Skipped};
use crate::items::{Translated, Translator};
use crate::keys;
use crate::ports::{Http, Storage};
use crate::read_ahead::ReadAhead;
use crate::settings::Filters;
use crate::signature;
use crate::time::TimestampMs;
use crate::webhook::{COMMENTS_FIELD, Change, Entry, Envelope, HANDOVER_FIELD, Item, LIVE_COMMENTS_FIELD, RawComment};
use serde_json::value::RawValue;

/// Real deliveries are a few KB; this is generous.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Real deliveries nest 6 deep.
pub const MAX_JSON_DEPTH: usize = 32;

pub use crate::handshake::Handshake;

/// A webhook POST as the host received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub received_at: TimestampMs,
}

/// How to translate one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateOptions {
    pub app_secret: String,
    /// Filters for every account of this delivery, instead of the stored ones.
    pub filters: Option<Filters>,
}

/// Verifies, parses and translates a delivery. Nothing is stored unless the signature is valid and the payload
/// readable; a storage failure fails the whole delivery so that the host does not acknowledge it.
pub fn translate(
    delivery: &Delivery,
    options: &TranslateOptions,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Vec<InboxEvent>, ConnectorError> {
    if delivery.body.len() > MAX_BODY_BYTES {
        let message = format!("the body has {} bytes; at most {MAX_BODY_BYTES} are accepted", delivery.body.len());
        return Err(ConnectorError::new(codes::PAYLOAD_TOO_LARGE, message));
    }
    let header = delivery.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(signature::HEADER));
    if options.app_secret.is_empty()
        || !signature::is_valid(options.app_secret.as_bytes(), &delivery.body, header.map(|(_, v)| v.as_str()))
    {
        let message = if header.is_some() {
            "X-Hub-Signature-256 does not match the body"
        } else {
            "X-Hub-Signature-256 is missing"
        };
        return Err(ConnectorError::new(codes::BAD_SIGNATURE, message));
    }
    let envelope = parse_envelope(&delivery.body)?;
    let steps = plan(envelope);
    let storage = ReadAhead::new(storage, read_ahead_keys(&steps, options.filters.is_none()))?;
    let mut translator = Translator::new(&storage, http, delivery.received_at, options.filters);
    let mut events = Vec::with_capacity(steps.len());
    for step in steps {
        match step {
            Step::Skip { account_id, reason } => events.push(skipped(account_id, reason)),
            Step::Item { account_id, item, standby } => {
                let translated = match item {
                    Some(item) => translator.item(&account_id, *item).map_err(ConnectorError::from)?,
                    None => Translated::malformed(),
                };
                push(&mut events, &mut translator, &account_id, translated, standby)?;
            }
            Step::Comment { account_id, entry_time, live, comment } => {
                let translated = match comment {
                    Some(comment) => {
                        translator.comment(&account_id, entry_time, live, *comment).map_err(ConnectorError::from)?
                    }
                    None => Translated::malformed(),
                };
                push(&mut events, &mut translator, &account_id, translated, false)?;
            }
        }
    }
    storage.finish()?;
    Ok(events)
}

/// One event (or more) to come: an entry skipped whole, one item of an account, or one comment (each None when
/// unreadable).
enum Step {
    Skip { account_id: String, reason: SkipReason },
    Item { account_id: String, item: Option<Box<Item>>, standby: bool },
    Comment { account_id: String, entry_time: Option<u64>, live: bool, comment: Option<Box<RawComment>> },
}

/// The delivery's entries, items and comments, parsed, in the order their events come out.
fn plan(envelope: Envelope<'_>) -> Vec<Step> {
    let mut steps = Vec::new();
    for raw_entry in envelope.entry.unwrap_or_default() {
        let entry = match serde_json::from_slice::<Entry<'_>>(raw_entry.get().as_bytes()) {
            Ok(entry) if keys::is_valid_id(&entry.id) => entry,
            _ => {
                steps.push(Step::Skip { account_id: String::new(), reason: SkipReason::MalformedItem });
                continue;
            }
        };
        let changes = read_changes(entry.changes);
        // Mentions and other fields are not handled: skipped per entry, never failing the delivery.
        if changes.unsupported && entry.messaging.is_empty() && entry.standby.is_empty() && changes.comments.is_empty()
        {
            steps.push(Step::Skip { account_id: entry.id.clone(), reason: SkipReason::Unsupported });
        }
        // Standby items are the ones another app's conversations receive: delivered too, and marked.
        let items = entry.messaging.iter().map(|raw| (*raw, false));
        let items = items
            .chain(entry.standby.iter().map(|raw| (*raw, true)))
            .chain(changes.handovers.into_iter().map(|raw| (raw, false)));
        for (raw_item, standby) in items {
            let item = serde_json::from_slice::<Item>(raw_item.get().as_bytes()).ok().map(Box::new);
            steps.push(Step::Item { account_id: entry.id.clone(), item, standby });
        }
        for (raw_comment, live) in changes.comments {
            let comment = serde_json::from_slice::<RawComment>(raw_comment.get().as_bytes()).ok().map(Box::new);
            steps.push(Step::Comment { account_id: entry.id.clone(), entry_time: entry.time, live, comment });
        }
    }
    steps
}

/// What the translation will read, to read it in one call: each account's filters (unless given), each
/// message's and comment's dedup mark and each customer's cached profile. A token is read only when a profile must be fetched,
/// which costs a Graph request anyway.
fn read_ahead_keys(steps: &[Step], stored_filters: bool) -> Vec<String> {
    let mut wanted = Vec::new();
    for step in steps {
        if let Step::Comment { account_id, comment: Some(comment), .. } = step {
            if stored_filters {
                wanted.push(keys::filters(account_id));
            }
            if let Some(id) = comment.id.as_ref().or(comment.comment_id.as_ref()) {
                wanted.push(keys::comment(account_id, id));
            }
            continue;
        }
        let Step::Item { account_id, item: Some(item), .. } = step else { continue };
        if stored_filters {
            wanted.push(keys::filters(account_id));
        }
        if let Some(message) = item.message.as_ref().filter(|m| !m.mid.is_empty() && !m.is_deleted) {
            wanted.push(keys::seen_message(&message.mid));
        }
        if let Some(customer) = item.customer_id().filter(|id| keys::is_valid_id(id)) {
            wanted.push(keys::profile(account_id, customer));
        }
    }
    wanted
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
    // Bytes, not `str`, like every other parse in the component: serde_json's parser is then compiled for one
    // reader type only (the text is UTF-8 already, so the outcome is the same).
    let envelope: Envelope<'_> =
        serde_json::from_slice(body).map_err(|e| malformed(&format!("the body is not a webhook delivery: {e}")))?;
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

/// Adds an item's event (with its customer's profile, unless skipped) and the events beside it.
fn push<S: Storage, H: Http>(
    events: &mut Vec<InboxEvent>,
    translator: &mut Translator<'_, S, H>,
    account_id: &str,
    translated: Translated,
    standby: bool,
) -> Result<(), ConnectorError> {
    let customer = match (&translated.customer_id, translated.profile) {
        (Some(_), Some(given)) => Some(given),
        (Some(id), None) if !matches!(translated.kind, EventKind::Skipped(_)) => {
            Some(translator.profile(account_id, id)?)
        }
        _ => None,
    };
    for kind in std::iter::once(translated.kind).chain(translated.beside) {
        let mut event = InboxEvent::new(account_id.to_owned(), kind, customer.clone());
        (event.standby, event.time_from_delivery) = (standby, translated.time_from_delivery);
        events.push(event);
    }
    Ok(())
}

fn skipped(account_id: String, reason: SkipReason) -> InboxEvent {
    let kind = EventKind::Skipped(Skipped { reason, message_id: None, customer_id: None });
    InboxEvent::new(account_id, kind, None)
}

/// An entry's `changes`, sorted: `messaging_handover` values (translated as items), comments (with whether they
/// are live), and whether any other change (or an unreadable list) is there, which is skipped.
#[derive(Default)]
struct Changes<'a> {
    handovers: Vec<&'a RawValue>,
    comments: Vec<(&'a RawValue, bool)>,
    unsupported: bool,
}

fn read_changes(changes: Option<&RawValue>) -> Changes<'_> {
    let Some(raw) = changes else { return Changes::default() };
    let Ok(list) = serde_json::from_slice::<Vec<Change<'_>>>(raw.get().as_bytes()) else {
        return Changes { unsupported: true, ..Changes::default() };
    };
    let mut sorted = Changes::default();
    for change in list {
        match (change.field.as_str(), change.value) {
            (HANDOVER_FIELD, Some(value)) => sorted.handovers.push(value),
            (COMMENTS_FIELD, Some(value)) => sorted.comments.push((value, false)),
            (LIVE_COMMENTS_FIELD, Some(value)) => sorted.comments.push((value, true)),
            (HANDOVER_FIELD, None) => {}
            _ => sorted.unsupported = true,
        }
    }
    sorted
}

/// Answers Meta's subscription handshake: the challenge when the mode is `subscribe` and the token matches.
pub fn verify_subscription(request: &Handshake, expected_token: &str) -> Result<String, ConnectorError> {
    let token_matches = request
        .verify_token
        .as_deref()
        .is_some_and(|t| !expected_token.is_empty() && crate::hex::constant_time_eq(t, expected_token));
    match (request.mode.as_deref(), request.challenge.as_deref()) {
        (Some("subscribe"), Some(challenge)) if token_matches => Ok(challenge.to_owned()),
        _ => Err(ConnectorError::new(codes::VERIFICATION_FAILED, "the handshake's mode, token or challenge is wrong")),
    }
}
