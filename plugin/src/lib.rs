//! The component: WIT bindings over `messenger-core`. Conversions only; every decision lives in the core.

mod convert;

mod wit {
    wit_bindgen::generate!({ world: "messenger-connector", path: "../wit" });
}

use convert::error_info;
use messenger_core::{ConnectorError, accounts, inbound as core_in, outbound as core_out, ports, settings};
use wit::exports::helpdesk::messenger_connector::{expiry, inbound, outbound};
use wit::helpdesk::messenger_connector::{http, storage, types};

struct Component;
wit::export!(Component with_types_in wit);

/// The `storage` import, as the core's port.
struct HostStorage;

impl ports::Storage for HostStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ports::StorageError> {
        storage::get(key).map_err(storage_error)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ports::StorageError> {
        storage::set(key, value).map_err(storage_error)
    }
    fn delete(&self, key: &str) -> Result<(), ports::StorageError> {
        storage::delete(key).map_err(storage_error)
    }
    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, ports::StorageError> {
        storage::insert_if_absent(key, value).map_err(storage_error)
    }
    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, ports::StorageError> {
        storage::compare_and_swap(key, expected, new).map_err(storage_error)
    }
}

fn storage_error(error: storage::Error) -> ports::StorageError {
    match error {
        storage::Error::InvalidKey(why) => ports::StorageError::InvalidKey(why),
        storage::Error::TooLarge(why) => ports::StorageError::TooLarge(why),
        storage::Error::AccessDenied => ports::StorageError::AccessDenied,
        storage::Error::Unavailable(why) => ports::StorageError::Unavailable(why),
    }
}

/// The `http` import, as the core's port.
struct HostHttp;

impl ports::Http for HostHttp {
    fn send(&self, request: &ports::HttpRequest) -> Result<ports::HttpResponse, ports::HttpError> {
        let method = match request.method {
            ports::Method::Get => http::Method::Get,
            ports::Method::Post => http::Method::Post,
            ports::Method::Delete => http::Method::Delete,
        };
        let wire = http::Request {
            method,
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            timeout_ms: request.timeout_ms,
        };
        match http::send(&wire) {
            Ok(r) => Ok(ports::HttpResponse { status: r.status, headers: r.headers, body: r.body }),
            Err(http::Error::Denied(why)) => Err(ports::HttpError::Denied(why)),
            Err(http::Error::Timeout) => Err(ports::HttpError::Timeout),
            Err(http::Error::Connection(why)) => Err(ports::HttpError::Connection(why)),
            Err(http::Error::TooLarge(n)) => Err(ports::HttpError::TooLarge(n)),
            Err(http::Error::InvalidRequest(why)) => Err(ports::HttpError::InvalidRequest(why)),
        }
    }
}

fn invalid_account(account_id: &str) -> Result<(), types::ErrorInfo> {
    if messenger_core::keys::is_valid_id(account_id) {
        Ok(())
    } else {
        Err(error_info(ConnectorError::new(
            messenger_core::codes::INVALID_ACCOUNT_ID,
            "an account id is 1 to 128 letters, digits, `_` or `-`",
        )))
    }
}

fn storage_failed(error: ports::StorageError) -> types::ErrorInfo {
    error_info(error.into())
}

impl inbound::Guest for Component {
    fn verify_subscription(request: inbound::Handshake, expected_token: String) -> Result<String, types::ErrorInfo> {
        core_in::verify_subscription(
            request.mode.as_deref(),
            request.verify_token.as_deref(),
            request.challenge.as_deref(),
            &expected_token,
        )
        .map_err(error_info)
    }

    fn translate(
        delivery: inbound::Delivery,
        options: inbound::TranslateOptions,
    ) -> Result<Vec<types::InboxEvent>, types::ErrorInfo> {
        let delivery =
            core_in::Delivery { headers: &delivery.headers, body: &delivery.body, received_at: delivery.received_at };
        let options =
            core_in::TranslateOptions { app_secret: &options.app_secret, filters: options.filters.map(filters_in) };
        let events = core_in::translate(&delivery, &options, &HostStorage, &HostHttp).map_err(error_info)?;
        Ok(events.into_iter().map(convert::event_out).collect())
    }

    fn get_filters(account_id: String) -> Result<inbound::Filters, types::ErrorInfo> {
        invalid_account(&account_id)?;
        let stored = settings::filters(&HostStorage, &account_id).map_err(storage_failed)?;
        Ok(inbound::Filters { skip_story_mentions: stored.skip_story_mentions, skip_shares: stored.skip_shares })
    }

    fn set_filters(account_id: String, filters: inbound::Filters) -> Result<(), types::ErrorInfo> {
        invalid_account(&account_id)?;
        settings::set_filters(&HostStorage, &account_id, filters_in(filters)).map_err(storage_failed)
    }
}

fn filters_in(f: inbound::Filters) -> settings::Filters {
    settings::Filters { skip_story_mentions: f.skip_story_mentions, skip_shares: f.skip_shares }
}

impl outbound::Guest for Component {
    fn validate(reply: outbound::Reply) -> Result<outbound::SendPlan, Vec<types::ErrorInfo>> {
        let reply = core_out::Reply {
            account_id: reply.account_id,
            customer_id: reply.customer_id,
            now: reply.now,
            author: match reply.author {
                outbound::Author::Agent => core_out::Author::Agent,
                outbound::Author::Bot => core_out::Author::Bot,
            },
            last_customer_message_at: reply.last_customer_message_at,
            human_agent_tag: reply.human_agent_tag,
            text: reply.text,
            attachments: reply
                .attachments
                .into_iter()
                .map(|a| core_out::OutgoingAttachment { url: a.url, mime_type: a.mime_type, size_bytes: a.size_bytes })
                .collect(),
        };
        core_out::validate(&reply).map(convert::plan_out).map_err(|errors| errors.into_iter().map(error_info).collect())
    }

    fn send(plan: outbound::SendPlan, now: u64) -> Result<Vec<outbound::DeliveryStatus>, types::ErrorInfo> {
        let statuses = core_out::send(&convert::plan_in(plan), now, &HostStorage, &HostHttp).map_err(error_info)?;
        Ok(statuses.into_iter().map(convert::status_out).collect())
    }
}

impl expiry::Guest for Component {
    fn evaluate(link: expiry::Link) -> Result<expiry::LinkDecision, types::ErrorInfo> {
        Ok(convert::decision_out(messenger_core::expiry::evaluate(&convert::link_in(link))))
    }

    fn refresh(account_id: String, now: u64) -> Result<u64, types::ErrorInfo> {
        accounts::refresh(&account_id, now, &HostStorage, &HostHttp).map_err(error_info)
    }

    fn link_accounts(request: expiry::LinkRequest) -> Result<Vec<expiry::LinkedAccount>, types::ErrorInfo> {
        let request = accounts::LinkRequest {
            login: convert::login_in(request.login),
            code: &request.code,
            redirect_uri: &request.redirect_uri,
            app_id: &request.app_id,
            app_secret: &request.app_secret,
            now: request.now,
        };
        let linked = accounts::link_accounts(&request, &HostStorage, &HostHttp).map_err(error_info)?;
        Ok(linked.into_iter().map(convert::linked_out).collect())
    }

    fn plan_selection(selected: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        accounts::plan_selection(&selected, &HostStorage).map(convert::change_out).map_err(error_info)
    }

    fn apply_selection(selected: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        accounts::apply_selection(&selected, &HostStorage).map(convert::change_out).map_err(error_info)
    }

    fn set_representative(account_id: Option<String>) -> Result<(), types::ErrorInfo> {
        accounts::set_representative(account_id.as_deref(), &HostStorage).map_err(error_info)
    }

    fn list_accounts() -> Result<Vec<expiry::AccountInfo>, types::ErrorInfo> {
        Ok(accounts::list(&HostStorage).map_err(error_info)?.into_iter().map(convert::account_out).collect())
    }
}
