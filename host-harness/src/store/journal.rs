//! The host's durable records beside the plugin's key-value space: deliveries with their events (written in the
//! same transaction as the plugin's dedup marks, so a 200 means both are committed), owner notices, and named
//! leases for work that one node at a time should do. (The reply queue's rows are the `outbox`'s.)

use super::{Database, JournalTransaction, Namespace, NewDelivery, Session, activity, sql_time};
use anyhow::Result;
use messenger_core::events::{EventKind, InboxEvent, SkipReason};
use serde_json::Value;
use std::time::Duration;

/// A delivery and its events as the journal stores them, ready to be written in any transaction (a group
/// commit's, see `group`).
pub struct DeliveryRecord {
    received_at: u64,
    body: Vec<u8>,
    /// The events to store, as JSON: every one but a redelivery's `duplicate`.
    json: Vec<String>,
    accounts: Vec<String>,
    windows: Vec<activity::Window>,
}

impl DeliveryRecord {
    pub fn new(received_at: u64, body: &[u8], events: &[InboxEvent]) -> Result<Self> {
        // A redelivery's `duplicate` is not an inbox event: the original was stored with its first delivery.
        let duplicate = |e: &&InboxEvent| matches!(&e.kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate);
        let json = events.iter().filter(|e| !duplicate(e)).map(serde_json::to_string).collect::<Result<_, _>>()?;
        let (accounts, windows) = (activity::accounts(events), activity::windows(events));
        Ok(Self { received_at, body: body.to_vec(), json, accounts, windows })
    }

    /// Writes the delivery, its events and the activity they show in `tx`.
    pub(crate) fn write(&self, tx: &mut dyn JournalTransaction, ns: &str) -> Result<()> {
        let delivery = NewDelivery {
            received_at: sql_time(self.received_at),
            body: &self.body,
            events: &self.json,
            accounts: &self.accounts,
            windows: &self.windows,
        };
        tx.insert_delivery_with_events(ns, &delivery)
    }
}

/// Stores a delivery and its events in `session`'s transaction.
pub fn record_delivery(session: &Session, received_at: u64, body: &[u8], events: &[InboxEvent]) -> Result<()> {
    let record = DeliveryRecord::new(received_at, body, events)?;
    session.journal(|tx, ns| record.write(tx, ns))
}

/// Stores the events a backfill step brought (no delivery: they came from the Conversations API) in `session`'s
/// transaction, with the windows they open.
pub fn record_backfill(session: &Session, events: &[InboxEvent]) -> Result<()> {
    let json = events.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    session.journal(|tx, ns| {
        json.iter().try_for_each(|event| tx.insert_event(ns, None, event))?;
        // The windows the events open, and nothing of the accounts: a backfill is no webhook.
        tx.touch_windows(ns, &activity::windows(events))
    })
}

/// The reason of the `skipped` event an entry for an account no channel linked leaves (`unrouted: skip`).
pub const UNLINKED_ACCOUNT: &str = "unlinked-account";

/// Stores entries for accounts no channel linked (`unrouted: skip`): the raw entries as a delivery of their own, and
/// a `skipped` event (`unlinked-account`) for each account, so the helpdesk can see what was not taken.
pub fn record_unrouted(
    database: &Database,
    namespace: &Namespace,
    received_at: u64,
    body: &[u8],
    accounts: &[String],
) -> Result<()> {
    database.transaction(namespace, |s| {
        s.journal(|tx, ns| {
            let delivery = tx.insert_delivery(ns, sql_time(received_at), body)?;
            accounts.iter().try_for_each(|account| {
                let event = serde_json::json!({"account-id": account, "kind": "skipped", "reason": UNLINKED_ACCOUNT});
                tx.insert_event(ns, Some(delivery), &event.to_string())
            })
        })
    })
}

/// Every stored event, oldest first.
pub fn events(database: &Database, namespace: &Namespace) -> Result<Vec<Value>> {
    let rows = database.read(namespace, |s| s.journal(|tx, ns| tx.events(ns)))?;
    rows.iter().map(|json| Ok(serde_json::from_str(json)?)).collect()
}

/// When the account's owners were last told, if ever.
pub fn last_notice(database: &Database, namespace: &Namespace, account_id: &str) -> Result<Option<u64>> {
    let at = database.read(namespace, |s| s.journal(|tx, ns| tx.last_notice(ns, account_id)))?;
    Ok(at.map(|t| t as u64))
}

/// Stores an owner notice as an event and moves the account's last-notice time from `read` (what the decision
/// was made on) to `at`, together. False, storing nothing, when another node stored it first.
pub fn store_notice(
    database: &Database,
    namespace: &Namespace,
    account_id: &str,
    read: Option<u64>,
    at: u64,
    event: &Value,
) -> Result<bool> {
    let event = event.to_string();
    database.transaction(namespace, |s| {
        s.journal(|tx, ns| {
            let first = tx.swap_notice(ns, account_id, read.map(sql_time), sql_time(at))?;
            if first {
                tx.insert_event(ns, None, &event)?;
            }
            Ok(first)
        })
    })
}

/// Takes (or renews) the named lease for `node` for `lease`; false while another node holds it.
pub fn take_lease(database: &Database, namespace: &Namespace, name: &str, node: &str, lease: Duration) -> Result<bool> {
    let now = crate::clock::now_ms();
    let (name, until) = (format!("{}/{name}", namespace.as_str()), lease_until(now, lease));
    database.transaction(namespace, |s| s.journal(|tx, _| tx.take_lease(&name, node, sql_time(now), until)))
}

/// Gives the named lease back if `node` holds it (a node stopping), so the next holder need not wait it out.
pub fn release_lease(database: &Database, namespace: &Namespace, name: &str, node: &str) -> Result<()> {
    let name = format!("{}/{name}", namespace.as_str());
    database.transaction(namespace, |s| s.journal(|tx, _| tx.release_lease(&name, node)))
}

/// When a lease taken at `now` for `lease` runs out.
pub(crate) fn lease_until(now: u64, lease: Duration) -> i64 {
    sql_time(now.saturating_add(lease.as_millis() as u64))
}
