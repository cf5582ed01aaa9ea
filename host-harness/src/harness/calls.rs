//! One method per export: core types in, the WIT's across, core types out.

use super::{CallError, Harness};
use crate::store::{Writes, channels};
use messenger_core::ConnectorError;
use messenger_core::accounts::{AccountInfo, LinkRequest, LinkedAccount, SelectionChange};
use messenger_core::events::InboxEvent;
use messenger_core::expiry::{Decision, Link};
use messenger_core::inbound::{Delivery, Handshake, TranslateOptions};
use messenger_core::messenger_profile::{ProfileField, ProfileSetting};
use messenger_core::outbound::{DeliveryStatus, Reply, SendPlan};
use messenger_core::settings::Filters;
use messenger_core::wire::Mirror;

/// A selection named an account that another channel of this deployment linked.
pub const ACCOUNT_IN_ANOTHER_CHANNEL: &str = "account-in-another-channel";

impl Harness {
    /// Translates one webhook delivery into inbox events (`inbound.translate`).
    pub fn translate(&self, delivery: &Delivery, options: &TranslateOptions) -> Result<Vec<InboxEvent>, CallError> {
        let (delivery, options) = (delivery.clone().mirror(), options.clone().mirror());
        let events = self.call(|store, plugin| plugin.inbound(store)?.call_translate(store, &delivery, &options))?;
        Ok(events.mirror())
    }

    /// Translates a delivery and, in the same transaction as the plugin's writes, stores the delivery and its
    /// events: when this returns `Ok`, all of it is on disk.
    pub fn translate_recorded(
        &self,
        delivery: &Delivery,
        options: &TranslateOptions,
    ) -> Result<Vec<InboxEvent>, CallError> {
        let record = super::grouped(|events: &Vec<InboxEvent>| {
            crate::store::journal::DeliveryRecord::new(delivery.received_at, &delivery.body, events)
        });
        if self.native_inbound {
            return self.translate_natively(delivery, options, record);
        }
        let (wire, options) = (delivery.clone().mirror(), options.clone().mirror());
        self.call_then(
            crate::store::Writes::Buffered,
            |store, plugin| {
                let events = plugin.inbound(store)?.call_translate(store, &wire, &options)?;
                Ok(events.map(Mirror::<Vec<InboxEvent>>::mirror))
            },
            record,
        )
    }

    /// Answers Meta's subscription handshake (`inbound.verify-subscription`).
    pub fn verify_subscription(&self, request: &Handshake, expected_token: &str) -> Result<String, CallError> {
        let request = request.clone().mirror();
        self.call(|store, plugin| plugin.inbound(store)?.call_verify_subscription(store, &request, expected_token))
    }

    /// The stored filters of an account (`inbound.get-filters`).
    pub fn filters(&self, account_id: &str) -> Result<Filters, CallError> {
        let filters = self.call(|store, plugin| plugin.inbound(store)?.call_get_filters(store, account_id))?;
        Ok(filters.mirror())
    }

    /// Stores the filters of an account (`inbound.set-filters`).
    pub fn set_filters(&self, account_id: &str, filters: Filters) -> Result<(), CallError> {
        self.call(|store, plugin| plugin.inbound(store)?.call_set_filters(store, account_id, filters.mirror()))
    }

    /// Validates a reply into a send plan (`outbound.validate`); every problem at once when invalid.
    pub fn validate_reply(&self, reply: &Reply) -> Result<SendPlan, CallError> {
        let reply = reply.clone().mirror();
        let plan = self.call(|store, plugin| plugin.outbound(store)?.call_validate(store, &reply))?;
        Ok(plan.mirror())
    }

    /// Sends a validated plan once (`outbound.send`); `send_with_retries` sends with retries.
    pub fn send_plan(&self, plan: &SendPlan, now: u64) -> Result<Vec<DeliveryStatus>, CallError> {
        let plan = plan.clone().mirror();
        let statuses = self.call_write_through(|store, plugin| plugin.outbound(store)?.call_send(store, &plan, now))?;
        Ok(statuses.mirror())
    }

    /// Evaluates an account link (`expiry.evaluate`).
    pub fn evaluate_link(&self, link: &Link) -> Result<Decision, CallError> {
        let link = link.clone().mirror();
        let decision = self.call(|store, plugin| plugin.expiry(store)?.call_evaluate(store, &link))?;
        Ok(decision.mirror())
    }

    /// Refreshes an account's token (`expiry.refresh`); its new expiry.
    pub fn refresh_token(&self, account_id: &str, now: u64) -> Result<u64, CallError> {
        self.call(|store, plugin| plugin.expiry(store)?.call_refresh(store, account_id, now))
    }

    /// Links the accounts an authorization code gives (`expiry.link-accounts`).
    pub fn link_accounts(&self, request: &LinkRequest) -> Result<Vec<LinkedAccount>, CallError> {
        let request = request.clone().mirror();
        let linked = self.call(|store, plugin| plugin.expiry(store)?.call_link_accounts(store, &request))?;
        Ok(linked.mirror())
    }

    /// What selecting exactly `selected` would do (`expiry.plan-selection`), or does (`apply-selection`). Applied,
    /// it routes the selected accounts' webhooks to this channel and stops routing the dropped ones, in the same
    /// transaction; an account another channel linked is refused (`account-in-another-channel`), planned or applied.
    pub fn select_accounts(&self, selected: &[String], apply: bool) -> Result<SelectionChange, CallError> {
        let taken = channels::taken_elsewhere(&self.database, &self.namespace, selected).map_err(CallError::Host)?;
        if let Some(taken) = taken.first() {
            return Err(CallError::Rejected(ConnectorError::new(ACCOUNT_IN_ANOTHER_CHANNEL, taken.to_string())));
        }
        let routed = self.call_then(
            Writes::Buffered,
            |store, plugin| {
                let exports = plugin.expiry(store)?;
                let change = if apply {
                    exports.call_apply_selection(store, selected)
                } else {
                    exports.call_plan_selection(store, selected)
                }?;
                Ok(change.map(Mirror::<SelectionChange>::mirror))
            },
            super::in_session(|session, change: &SelectionChange| {
                if !apply {
                    return Ok(());
                }
                let linked: Vec<String> = change.added.iter().chain(&change.kept).cloned().collect();
                channels::apply_routes(session, &linked, &change.removed, crate::clock::now_ms())
            }),
        );
        match routed {
            Ok(change) => Ok(change),
            // Another channel claimed one of them between the check and the commit.
            Err(CallError::Host(e)) if e.downcast_ref::<channels::RouteTaken>().is_some() => {
                Err(CallError::Rejected(ConnectorError::new(ACCOUNT_IN_ANOTHER_CHANNEL, format!("{e}"))))
            }
            Err(other) => Err(other),
        }
    }

    /// Marks (or clears) the channel's representative account (`expiry.set-representative`).
    pub fn set_representative(&self, account_id: Option<&str>) -> Result<(), CallError> {
        self.call(|store, plugin| plugin.expiry(store)?.call_set_representative(store, account_id))
    }

    /// The channel's linked accounts (`expiry.list-accounts`).
    pub fn list_accounts(&self) -> Result<Vec<AccountInfo>, CallError> {
        let accounts = self.call(|store, plugin| plugin.expiry(store)?.call_list_accounts(store))?;
        Ok(accounts.mirror())
    }

    /// An account's ice breakers or persistent menu, as Meta has them (`messenger-profile.get`).
    pub fn profile_setting(
        &self,
        account_id: &str,
        field: ProfileField,
        now: u64,
    ) -> Result<ProfileSetting, CallError> {
        let setting = self.call_write_through(|store, plugin| {
            plugin.messenger_profile(store)?.call_get(store, account_id, field.mirror(), now)
        })?;
        Ok(setting.mirror())
    }

    /// Replaces an account's ice breakers or persistent menu (`messenger-profile.set`): validated first, every
    /// problem at once (`CallError::Invalid`).
    pub fn set_profile_setting(&self, account_id: &str, setting: &ProfileSetting, now: u64) -> Result<(), CallError> {
        let setting = setting.clone().mirror();
        // As a send: a link Graph found broken stays recorded though the call fails.
        self.call_write_through(|store, plugin| {
            plugin.messenger_profile(store)?.call_set(store, account_id, &setting, now)
        })
    }

    /// Removes an account's ice breakers or persistent menu (`messenger-profile.delete`).
    pub fn delete_profile_setting(&self, account_id: &str, field: ProfileField, now: u64) -> Result<(), CallError> {
        self.call_write_through(|store, plugin| {
            plugin.messenger_profile(store)?.call_delete(store, account_id, field.mirror(), now)
        })
    }
}
