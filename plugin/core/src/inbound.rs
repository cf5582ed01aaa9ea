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
use crate::webhook::{Change, Entry, Envelope, HANDOVER_FIELD, Item};
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
        let (account_id, item, standby) = match step {
            Step::Skip { account_id, reason } => {
                events.push(skipped(account_id, reason));
                continue;
            }
            Step::Item { account_id, item, standby } => (account_id, item, standby),
        };
        let translated = match item {
            Some(item) => translator.item(&account_id, *item).map_err(ConnectorError::from)?,
            None => Translated {
                kind: EventKind::Skipped(Skipped { reason: SkipReason::MalformedItem, message_id: None }),
                customer_id: None,
            },
        };
        let customer = match &translated.customer_id {
            Some(id) if !matches!(translated.kind, EventKind::Skipped(_)) => {
                Some(translator.profile(&account_id, id).map_err(ConnectorError::from)?)
            }
            _ => None,
        };
        events.push(InboxEvent { account_id, kind: translated.kind, customer, standby });
    }
    storage.finish()?;
    Ok(events)
}

/// One event to come: an entry skipped whole, or one item (None when unreadable) of an account.
enum Step {
    Skip { account_id: String, reason: SkipReason },
    Item { account_id: String, item: Option<Box<Item>>, standby: bool },
}

/// The delivery's entries and items, parsed, in the order their events come out.
fn plan(envelope: Envelope<'_>) -> Vec<Step> {
    let mut steps = Vec::new();
    for raw_entry in envelope.entry.unwrap_or_default() {
        let entry = match serde_json::from_str::<Entry<'_>>(raw_entry.get()) {
            Ok(entry) if keys::is_valid_id(&entry.id) => entry,
            _ => {
                steps.push(Step::Skip { account_id: String::new(), reason: SkipReason::MalformedItem });
                continue;
            }
        };
        let (handovers, other_changes) = read_changes(entry.changes);
        // Comments and mentions (`changes`) are not messaging: skipped per entry, never failing the delivery.
        if other_changes && entry.messaging.is_empty() && entry.standby.is_empty() {
            steps.push(Step::Skip { account_id: entry.id.clone(), reason: SkipReason::Unsupported });
        }
        // Standby items are the ones another app's conversations receive: delivered too, and marked.
        let items = entry.messaging.iter().map(|raw| (*raw, false));
        let items = items
            .chain(entry.standby.iter().map(|raw| (*raw, true)))
            .chain(handovers.into_iter().map(|raw| (raw, false)));
        for (raw_item, standby) in items {
            let item = serde_json::from_str::<Item>(raw_item.get()).ok().map(Box::new);
            steps.push(Step::Item { account_id: entry.id.clone(), item, standby });
        }
    }
    steps
}

/// What the translation will read, to read it in one call: each account's filters (unless given), each
/// message's dedup mark and each customer's cached profile. A token is read only when a profile must be fetched,
/// which costs a Graph request anyway.
fn read_ahead_keys(steps: &[Step], stored_filters: bool) -> Vec<String> {
    let mut wanted = Vec::new();
    for step in steps {
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

fn skipped(account_id: String, reason: SkipReason) -> InboxEvent {
    let kind = EventKind::Skipped(Skipped { reason, message_id: None });
    InboxEvent { account_id, kind, customer: None, standby: false }
}

/// An entry's `changes`: the values of its `messaging_handover` changes (translated as items), and whether it has
/// any other change (or an unreadable list), which is skipped.
fn read_changes(changes: Option<&RawValue>) -> (Vec<&RawValue>, bool) {
    let Some(raw) = changes else { return (Vec::new(), false) };
    let Ok(changes) = serde_json::from_str::<Vec<Change<'_>>>(raw.get()) else { return (Vec::new(), true) };
    let (handovers, others): (Vec<_>, Vec<_>) = changes.into_iter().partition(|c| c.field == HANDOVER_FIELD);
    (handovers.into_iter().filter_map(|c| c.value).collect(), !others.is_empty())
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
