//! What the deliveries showed, kept beside them: when each account last had a webhook, and when each customer
//! last wrote to each account (what opens Meta's 24-hour window, as the component's `opens_window` says).

use super::sql_time;
use super::{Database, JournalTransaction, Namespace};
use anyhow::Result;
use messenger_core::events::InboxEvent;

/// Records a delivery's activity in its own transaction: every account it names, and every window it opens.
pub(super) fn record(tx: &mut dyn JournalTransaction, ns: &str, received_at: u64, events: &[InboxEvent]) -> Result<()> {
    let mut accounts: Vec<&str> = events.iter().map(|e| e.account_id.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    for account in accounts {
        tx.touch_account(ns, account, sql_time(received_at))?;
    }
    record_windows(tx, ns, events)
}

/// Records the windows events open, and nothing of the accounts: what a backfill (no webhook) shows.
pub(super) fn record_windows(tx: &mut dyn JournalTransaction, ns: &str, events: &[InboxEvent]) -> Result<()> {
    for event in events {
        if let Some((customer, at)) = event.opens_window() {
            tx.touch_customer(ns, &event.account_id, customer, sql_time(at))?;
        }
    }
    Ok(())
}

/// When a webhook for `account` last arrived, if ever.
pub fn last_webhook(database: &Database, namespace: &Namespace, account: &str) -> Result<Option<u64>> {
    let at = database.transaction(namespace, |s| s.journal(|tx, ns| tx.last_webhook(ns, account)))?;
    Ok(at.map(|t| t as u64))
}

/// When `customer` last wrote to `account` (a message, a story reply or mention, a postback or a referral), if
/// the connector ever saw it.
pub fn last_customer_message(
    database: &Database,
    namespace: &Namespace,
    account: &str,
    customer: &str,
) -> Result<Option<u64>> {
    let at =
        database.transaction(namespace, |s| s.journal(|tx, ns| tx.last_customer_message(ns, account, customer)))?;
    Ok(at.map(|t| t as u64))
}
