//! The `linking` export (WIT 0.2.0): webhook subscriptions, and Meta's deauthorize and data deletion callbacks.

use super::{CallError, Harness};
use crate::store::{Writes, forget};
use messenger_core::accounts::Subscription;
use messenger_core::wire::Mirror;

impl Harness {
    /// Subscribes a linked account to the webhook fields and stores how it went (`linking.subscribe-webhooks`).
    /// Meta's refusal comes back as the outcome's `error`, stored, never as an `Err`.
    pub fn subscribe_webhooks(&self, account_id: &str, now: u64) -> Result<Subscription, CallError> {
        let subscription =
            self.call(|store, plugin| plugin.linking(store)?.call_subscribe_webhooks(store, account_id, now))?;
        Ok(subscription.mirror())
    }

    /// The stored subscription outcomes of the channel's accounts (`linking.list-subscriptions`).
    pub fn subscriptions(&self) -> Result<Vec<Subscription>, CallError> {
        let stored = self.call(|store, plugin| plugin.linking(store)?.call_list_subscriptions(store))?;
        Ok(stored.mirror())
    }

    /// Marks broken the links the person authorized (`linking.deauthorize`); the accounts marked.
    pub fn deauthorize(&self, person_id: &str, now: u64) -> Result<Vec<String>, CallError> {
        self.call(|store, plugin| plugin.linking(store)?.call_deauthorize(store, person_id, now))
    }

    /// Forgets every account the person authorized (`linking.forget-person`), and in the same transaction erases
    /// what the host keeps of them (events, raw bodies, activity, notices, routes); the accounts forgotten.
    pub fn forget_person(&self, person_id: &str) -> Result<Vec<String>, CallError> {
        self.call_then(
            Writes::Buffered,
            |store, plugin| plugin.linking(store)?.call_forget_person(store, person_id),
            super::in_session(|session, accounts: &Vec<String>| {
                accounts.iter().try_for_each(|account| forget::forget_account(session, account))
            }),
        )
    }
}
