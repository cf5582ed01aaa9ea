//! What the deliveries showed, kept beside them: when each account last had a webhook, and when each customer
//! last wrote to each account (what opens Meta's 24-hour window, as the component's `opens_window` says).

use super::sql_time;
use super::{Database, Namespace};
use anyhow::Result;
use messenger_core::events::InboxEvent;

/// A customer's message to an account at `at` (ms in SQL time): the start of Meta's 24-hour window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub account: String,
    pub customer: String,
    pub at: i64,
}

/// The accounts events name, each once.
pub(super) fn accounts(events: &[InboxEvent]) -> Vec<String> {
    let mut accounts: Vec<String> = events.iter().map(|e| e.account_id.clone()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    accounts
}

/// The windows events open.
pub(super) fn windows(events: &[InboxEvent]) -> Vec<Window> {
    let opened = events.iter().filter_map(|event| Some((event, event.opens_window()?)));
    opened
        .map(|(event, (customer, at))| Window {
            account: event.account_id.clone(),
            customer: customer.to_owned(),
            at: sql_time(at),
        })
        .collect()
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
