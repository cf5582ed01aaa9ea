//! Retention: what deliveries leave behind does not grow forever. Raw delivery bodies are emptied first (they are
//! only for investigating a delivery), then deliveries and their events go; activity rows older than the window
//! they could still open go too, but the latest row per account and per customer is kept (the accounts list and
//! `unknown-customer` read it). The plugin's dedup marks go once no redelivery can come. Owner notices (events
//! without a delivery) are kept.

use super::sql_time;
use super::{Database, Namespace, schema};
use anyhow::Result;
use std::time::Duration;

/// How long each kind of record is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Raw webhook bodies (default 3 days).
    pub raw_bodies: Duration,
    /// Deliveries and their events (default 30 days; keep it well above any push backlog: an event pruned before
    /// the push sent it is not sent).
    pub events: Duration,
    /// Webhook and customer activity rows but the latest of each (default 8 days, past the 7-day human-agent
    /// window).
    pub activity: Duration,
    /// The plugin's dedup marks (default 14 days: Meta redelivers for up to 36 hours, and an echo comes within
    /// seconds of the send it echoes).
    pub dedup_marks: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        const DAY: u64 = 86_400;
        Self {
            raw_bodies: Duration::from_secs(3 * DAY),
            events: Duration::from_secs(30 * DAY),
            activity: Duration::from_secs(8 * DAY),
            dedup_marks: Duration::from_secs(14 * DAY),
        }
    }
}

/// Rows changed, by kind: bodies emptied, events deleted, deliveries deleted, activity rows deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub bodies: u64,
    pub events: u64,
    pub deliveries: u64,
    pub activity: u64,
    pub dedup_marks: u64,
}

/// Prunes `namespace`'s records older than `retention` allows at `now`, in one transaction.
pub fn prune(database: &Database, namespace: &Namespace, now: u64, retention: &Retention) -> Result<Pruned> {
    let before = |keep: Duration| sql_time(now.saturating_sub(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX)));
    database.transaction(namespace, |s| {
        s.journal(|tx, ns| {
            let events = before(retention.events);
            let activity = before(retention.activity);
            Ok(Pruned {
                bodies: tx.prune(schema::PRUNE_BODIES, ns, before(retention.raw_bodies))?,
                events: tx.prune(schema::PRUNE_EVENTS, ns, events)?,
                deliveries: tx.prune(schema::PRUNE_DELIVERIES, ns, events)?,
                activity: tx.prune(schema::PRUNE_ACCOUNT_ACTIVITY, ns, activity)?
                    + tx.prune(schema::PRUNE_CUSTOMER_ACTIVITY, ns, activity)?,
                dedup_marks: tx.prune(schema::PRUNE_DEDUP_MARKS, ns, before(retention.dedup_marks))?,
            })
        })
    })
}
