//! Erasing what the host keeps of an account (Meta's data deletion callback): its events and the raw bodies that
//! carried them, its webhook and customer activity, its owner notices and its route. Run in the transaction of
//! the component call that forgets the account's own keys, so the two are deleted together.

use super::{Session, schema};
use anyhow::Result;

/// Erases the account's records in `session`'s channel.
pub fn forget_account(session: &Session, account: &str) -> Result<()> {
    // Account ids are letters, digits, `_` and `-`; `_` is a LIKE wildcard, so it is escaped.
    let pattern = format!("%\"account-id\":\"{}\"%", account.replace('_', "\\_"));
    session.journal(|tx, ns| {
        tx.forget(schema::FORGET_BODIES, ns, &pattern)?;
        tx.forget(schema::FORGET_EVENTS, ns, &pattern)?;
        for sql in [schema::FORGET_ACCOUNT_ACTIVITY, schema::FORGET_CUSTOMER_ACTIVITY, schema::FORGET_NOTICES] {
            tx.forget(sql, ns, account)?;
        }
        tx.release_route(ns, account)
    })
}
