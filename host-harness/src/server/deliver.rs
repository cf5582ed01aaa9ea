//! Routing a verified delivery to the channels that linked its accounts.
//!
//! Meta batches: one delivery may carry entries for several accounts, linked by different channels. Each entry
//! goes to the channel that linked its account (`store::channels`). An entry for an account no channel linked goes
//! to the default channel (so a first run works with nothing linked), or, when the deployment says
//! `unrouted: skip`, is stored in the default channel as a `skipped` event with reason `unlinked-account` and its
//! raw entry kept: acknowledged, never lost.
//!
//! When every entry goes to one channel (nearly always), the body is passed on byte for byte. Otherwise each
//! channel gets a body of its own entries, their bytes unchanged, signed again with the app secret the host has
//! just verified the whole body with. Each part commits in a transaction of its own; the delivery is acknowledged
//! only after all have. If one fails, Meta delivers the whole body again and the parts already stored find their
//! messages seen (`duplicate`): nothing is lost and nothing stored twice.

use crate::harness::{CallError, Harness};
use crate::store::{Namespace, channels, journal};
use anyhow::Result;
use messenger_core::events::InboxEvent;
use messenger_core::inbound::{Delivery, TranslateOptions};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Where entries for accounts no channel linked go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unrouted {
    /// To the default channel.
    #[default]
    Default,
    /// Nowhere: recorded in the default channel as `skipped` (`unlinked-account`).
    Skip,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    object: Option<&'a RawValue>,
    #[serde(borrow)]
    entry: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct EntryId {
    id: serde_json::Value,
}

/// One channel's share of a delivery.
struct Part<'a> {
    namespace: Namespace,
    entries: Vec<&'a RawValue>,
    /// Accounts of entries no channel linked, under `Unrouted::Skip`.
    unrouted: Vec<String>,
}

/// Stores a delivery whose signature the host verified: each entry in its channel. The events of every part.
pub(super) fn store(
    harness: &Harness,
    delivery: &Delivery,
    app_secret: &str,
    unrouted: Unrouted,
) -> Result<Vec<InboxEvent>, CallError> {
    let options = TranslateOptions { app_secret: app_secret.to_owned(), filters: None };
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&delivery.body) else {
        // Not a batch of entries: the component says what is wrong with it (a 400), in the default channel.
        return harness.translate_recorded(delivery, &options);
    };
    let parts = split(harness, &envelope, unrouted).map_err(CallError::Host)?;
    if let [only] = &parts[..]
        && only.unrouted.is_empty()
    {
        return on_channel(harness, &only.namespace)?.translate_recorded(delivery, &options);
    }
    let mut events = Vec::new();
    for part in &parts {
        let body = rebuild(envelope.object, &part.entries);
        if !part.unrouted.is_empty() {
            journal::record_unrouted(harness.database(), &part.namespace, delivery.received_at, &body, &part.unrouted)
                .map_err(CallError::Host)?;
            continue;
        }
        let signature = messenger_core::signature::sign(app_secret.as_bytes(), &body);
        let mut headers: Vec<_> = delivery
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case(messenger_core::signature::HEADER))
            .cloned()
            .collect();
        headers.push((messenger_core::signature::HEADER.to_owned(), signature));
        let part_delivery = Delivery { headers, body, received_at: delivery.received_at };
        events.extend(on_channel(harness, &part.namespace)?.translate_recorded(&part_delivery, &options)?);
    }
    Ok(events)
}

/// The entries grouped by the channel of their account, in the order each channel first appears.
fn split<'a>(harness: &Harness, envelope: &Envelope<'a>, unrouted: Unrouted) -> Result<Vec<Part<'a>>> {
    let default = harness.namespace();
    let mut parts: Vec<Part<'a>> = Vec::new();
    let mut skipped = Part { namespace: default.clone(), entries: Vec::new(), unrouted: Vec::new() };
    for entry in &envelope.entry {
        let account = serde_json::from_str::<EntryId>(entry.get()).ok().and_then(|e| match e.id {
            serde_json::Value::String(id) => Some(id),
            serde_json::Value::Number(id) => Some(id.to_string()),
            _ => None,
        });
        let route = match &account {
            Some(account) => channels::route_of(harness.database(), default, account)?,
            None => None,
        };
        let namespace = match (route, unrouted, account) {
            (Some(namespace), _, _) => namespace,
            (None, Unrouted::Skip, Some(account)) => {
                skipped.entries.push(entry);
                skipped.unrouted.push(account);
                continue;
            }
            // No account id: the component refuses or skips it, in the default channel.
            (None, _, _) => default.clone(),
        };
        match parts.iter_mut().find(|part| part.namespace == namespace) {
            Some(part) => part.entries.push(entry),
            None => parts.push(Part { namespace, entries: vec![entry], unrouted: Vec::new() }),
        }
    }
    if !skipped.entries.is_empty() {
        parts.push(skipped);
    }
    Ok(parts)
}

/// A body of `entries` only: Meta's envelope around their bytes, unchanged.
fn rebuild(object: Option<&RawValue>, entries: &[&RawValue]) -> Vec<u8> {
    let entries: Vec<&str> = entries.iter().map(|entry| entry.get()).collect();
    let object = object.map_or("\"instagram\"", RawValue::get);
    format!("{{\"object\":{object},\"entry\":[{}]}}", entries.join(",")).into_bytes()
}

fn on_channel(harness: &Harness, namespace: &Namespace) -> Result<Harness, CallError> {
    if namespace == harness.namespace() {
        return Ok(harness.clone());
    }
    harness.for_channel(namespace.channel()).map_err(CallError::Host)
}
