//! The component: WIT bindings over `messenger-core`. Conversions only (the core's `wit_mappings!`); every decision
//! lives in the core.

mod wit {
    wit_bindgen::generate!({ world: "messenger-connector", path: "../wit" });
}

use messenger_core::wire::Mirror;
use messenger_core::{ConnectorError, accounts, inbound as core_in, messenger_profile as core_profile};
use messenger_core::{outbound as core_out, ports, settings};
use wit::exports::helpdesk::messenger_connector::{expiry, history, inbound, linking, messenger_profile, outbound};
use wit::helpdesk::messenger_connector::{http, storage, types};

messenger_core::wit_mappings!(
    types = crate::wit::helpdesk::messenger_connector::types,
    http = crate::wit::helpdesk::messenger_connector::http,
    storage = crate::wit::helpdesk::messenger_connector::storage,
    inbound = crate::wit::exports::helpdesk::messenger_connector::inbound,
    outbound = crate::wit::exports::helpdesk::messenger_connector::outbound,
    expiry = crate::wit::exports::helpdesk::messenger_connector::expiry,
    messenger_profile = crate::wit::exports::helpdesk::messenger_connector::messenger_profile,
);
messenger_core::linking_wit_mappings!(linking = crate::wit::exports::helpdesk::messenger_connector::linking);
messenger_core::history_wit_mappings!(history = crate::wit::exports::helpdesk::messenger_connector::history);

struct Component;
wit::export!(Component with_types_in wit);

/// The `storage` import, as the core's port.
struct HostStorage;

impl ports::Storage for HostStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ports::StorageError> {
        storage::get(key).map_err(Mirror::mirror)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ports::StorageError> {
        storage::set(key, value).map_err(Mirror::mirror)
    }
    fn delete(&self, key: &str) -> Result<(), ports::StorageError> {
        storage::delete(key).map_err(Mirror::mirror)
    }
    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, ports::StorageError> {
        storage::insert_if_absent(key, value).map_err(Mirror::mirror)
    }
    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, ports::StorageError> {
        storage::compare_and_swap(key, expected, new).map_err(Mirror::mirror)
    }
    fn list_keys(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<ports::KeyPage, ports::StorageError> {
        let page = storage::list_keys(prefix, cursor, limit).map_err(Mirror::<ports::StorageError>::mirror)?;
        Ok((page.keys, page.cursor))
    }
    fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, ports::StorageError> {
        let keys: Vec<String> = keys.iter().map(|key| (*key).to_owned()).collect();
        storage::get_many(&keys).map_err(Mirror::mirror)
    }
    fn set_many(&self, entries: &[ports::Entry<'_>]) -> Result<(), ports::StorageError> {
        storage::set_many(&wire_entries(entries)).map_err(Mirror::mirror)
    }
    fn insert_if_absent_many(&self, entries: &[ports::Entry<'_>]) -> Result<Vec<bool>, ports::StorageError> {
        storage::insert_if_absent_many(&wire_entries(entries)).map_err(Mirror::mirror)
    }
}

fn wire_entries(entries: &[ports::Entry<'_>]) -> Vec<storage::Entry> {
    entries.iter().map(|(key, value)| storage::Entry { key: (*key).to_owned(), value: value.to_vec() }).collect()
}

/// The `http` import, as the core's port.
struct HostHttp;

impl ports::Http for HostHttp {
    fn send(&self, request: &ports::HttpRequest) -> Result<ports::HttpResponse, ports::HttpError> {
        let wire: http::Request = request.clone().mirror();
        http::send(&wire).map(Mirror::mirror).map_err(Mirror::mirror)
    }
}

/// A core result as the export's result.
fn answer<T: Mirror<W>, W>(result: Result<T, ConnectorError>) -> Result<W, types::ErrorInfo> {
    result.map(Mirror::mirror).map_err(Mirror::mirror)
}

fn valid_account(account_id: &str) -> Result<(), ConnectorError> {
    if messenger_core::keys::is_valid_id(account_id) {
        Ok(())
    } else {
        Err(ConnectorError::new(
            messenger_core::codes::INVALID_ACCOUNT_ID,
            "an account id is 1 to 128 letters, digits, `_` or `-`",
        ))
    }
}

impl inbound::Guest for Component {
    fn verify_subscription(request: inbound::Handshake, expected_token: String) -> Result<String, types::ErrorInfo> {
        answer(core_in::verify_subscription(&request.mirror(), &expected_token))
    }

    fn translate(
        delivery: inbound::Delivery,
        options: inbound::TranslateOptions,
    ) -> Result<Vec<types::InboxEvent>, types::ErrorInfo> {
        answer(core_in::translate(&delivery.mirror(), &options.mirror(), &HostStorage, &HostHttp))
    }

    fn get_filters(account_id: String) -> Result<inbound::Filters, types::ErrorInfo> {
        answer(valid_account(&account_id).and_then(|()| Ok(settings::filters(&HostStorage, &account_id)?)))
    }

    fn set_filters(account_id: String, filters: inbound::Filters) -> Result<(), types::ErrorInfo> {
        let stored = |()| Ok(settings::set_filters(&HostStorage, &account_id, filters.mirror())?);
        answer(valid_account(&account_id).and_then(stored))
    }
}

impl outbound::Guest for Component {
    fn validate(reply: outbound::Reply) -> Result<outbound::SendPlan, Vec<types::ErrorInfo>> {
        core_out::validate_stored(&reply.mirror(), &HostStorage).map(Mirror::mirror).map_err(Mirror::mirror)
    }

    fn send(plan: outbound::SendPlan, now: u64) -> Result<Vec<outbound::DeliveryStatus>, types::ErrorInfo> {
        answer(core_out::send(&plan.mirror(), now, &HostStorage, &HostHttp))
    }
}

impl expiry::Guest for Component {
    fn evaluate(link: expiry::Link) -> Result<expiry::LinkDecision, types::ErrorInfo> {
        Ok(messenger_core::expiry::evaluate(&link.mirror()).mirror())
    }

    fn refresh(account_id: String, now: u64) -> Result<u64, types::ErrorInfo> {
        answer(accounts::refresh(&account_id, now, &HostStorage, &HostHttp))
    }

    fn link_accounts(request: expiry::LinkRequest) -> Result<Vec<expiry::LinkedAccount>, types::ErrorInfo> {
        answer(accounts::link_accounts(&request.mirror(), &HostStorage, &HostHttp))
    }

    fn plan_selection(selected: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        answer(accounts::plan_selection(&selected, &HostStorage))
    }

    fn apply_selection(selected: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        answer(accounts::apply_selection(&selected, &HostStorage))
    }

    fn set_representative(account_id: Option<String>) -> Result<(), types::ErrorInfo> {
        answer(accounts::set_representative(account_id.as_deref(), &HostStorage))
    }

    fn list_accounts() -> Result<Vec<expiry::AccountInfo>, types::ErrorInfo> {
        answer(accounts::list(&HostStorage))
    }
}

impl messenger_profile::Guest for Component {
    fn get(
        account_id: String,
        field: messenger_profile::ProfileField,
        now: u64,
    ) -> Result<messenger_profile::ProfileSetting, types::ErrorInfo> {
        answer(core_profile::get(&account_id, field.mirror(), now, &HostStorage, &HostHttp))
    }

    fn set(
        account_id: String,
        setting: messenger_profile::ProfileSetting,
        now: u64,
    ) -> Result<(), Vec<types::ErrorInfo>> {
        core_profile::set(&account_id, &setting.mirror(), now, &HostStorage, &HostHttp).map_err(Mirror::mirror)
    }

    fn delete(account_id: String, field: messenger_profile::ProfileField, now: u64) -> Result<(), types::ErrorInfo> {
        answer(core_profile::delete(&account_id, field.mirror(), now, &HostStorage, &HostHttp))
    }
}

impl linking::Guest for Component {
    fn subscribe_webhooks(account_id: String, now: u64) -> Result<linking::Subscription, types::ErrorInfo> {
        answer(accounts::subscribe(&account_id, now, &HostStorage, &HostHttp))
    }

    fn list_subscriptions() -> Result<Vec<linking::Subscription>, types::ErrorInfo> {
        answer(accounts::subscriptions(&HostStorage))
    }

    fn deauthorize(person_id: String, now: u64) -> Result<Vec<String>, types::ErrorInfo> {
        answer(accounts::deauthorize(&person_id, now, &HostStorage))
    }

    fn forget_person(person_id: String) -> Result<Vec<String>, types::ErrorInfo> {
        answer(accounts::forget(&person_id, &HostStorage))
    }

    fn probe_token(account_id: String, now: u64) -> Result<Option<types::GraphError>, types::ErrorInfo> {
        answer(messenger_core::probe::probe_token(&account_id, now, &HostStorage, &HostHttp))
    }
}

impl history::Guest for Component {
    fn start_backfill(
        account_id: String,
        customer_id: Option<String>,
        now: u64,
    ) -> Result<history::BackfillProgress, types::ErrorInfo> {
        answer(messenger_core::history::start(&account_id, customer_id.as_deref(), now, &HostStorage))
    }

    fn backfill_step(account_id: String, now: u64) -> Result<history::BackfillBatch, types::ErrorInfo> {
        answer(messenger_core::history::step(&account_id, now, &HostStorage, &HostHttp))
    }

    fn get_backfill(account_id: String) -> Result<Option<history::BackfillProgress>, types::ErrorInfo> {
        answer(messenger_core::history::progress(&account_id, &HostStorage))
    }
}
