//! The host's entry point: every call gets a fresh pooled instance and one storage transaction, committed only
//! when the component answers `ok`. A trap or a refusal leaves the store as it was, and the next call works.

use crate::bindings::{MessengerConnector, expiry, inbound, types};
use crate::convert;
use crate::engine::Runtime;
use crate::http::{EgressPolicy, HttpClient};
use crate::limits::Limits;
use crate::state::State;
use crate::storage::{Database, Namespace};
use anyhow::Result;
use messenger_core::ConnectorError;
use messenger_core::events::InboxEvent;
use std::path::PathBuf;
use wasmtime::Store;

/// The message of a call stopped by its deadline.
pub const DEADLINE_EXCEEDED: &str = "the plugin ran past its per-call deadline";
/// The plugin name that scopes storage.
pub const PLUGIN_NAME: &str = "instagram";

/// How a call can fail.
#[derive(Debug)]
pub enum CallError {
    /// The component refused the input with a typed error; nothing was stored.
    Rejected(ConnectorError),
    /// The component found the input invalid, with every problem; nothing was stored.
    Invalid(Vec<ConnectorError>),
    /// The plugin trapped or hit a limit (deadline, memory); that instance is gone, nothing was stored.
    PluginFault(String),
    /// The host failed (storage, instantiation).
    Host(anyhow::Error),
}

impl CallError {
    /// The error as the CLI contract prints it.
    pub fn to_error_info(&self) -> ConnectorError {
        match self {
            Self::Rejected(error) => error.clone(),
            Self::Invalid(errors) => {
                errors.first().cloned().unwrap_or_else(|| ConnectorError::new("invalid", "invalid input"))
            }
            Self::PluginFault(why) => ConnectorError::new("plugin-fault", why.clone()),
            Self::Host(error) => ConnectorError::new("host-error", format!("{error:#}")),
        }
    }
}

/// What a harness is built from.
pub struct HarnessConfig {
    pub wasm: Vec<u8>,
    pub limits: Limits,
    pub cache_dir: Option<PathBuf>,
    pub database: Database,
    pub egress: EgressPolicy,
    pub channel: String,
}

impl HarnessConfig {
    /// The built component, an in-memory store, Meta's Graph hosts, default limits and cache, channel `default`.
    pub fn new(database: Database) -> Self {
        Self {
            wasm: crate::PLUGIN_WASM.to_vec(),
            limits: Limits::default(),
            cache_dir: crate::engine::default_cache_dir(),
            database,
            egress: EgressPolicy::default(),
            channel: "default".into(),
        }
    }
}

pub struct Harness {
    runtime: Runtime,
    database: Database,
    http: HttpClient,
    namespace: Namespace,
}

impl Harness {
    pub fn new(config: HarnessConfig) -> Result<Self> {
        Ok(Self {
            runtime: Runtime::new(&config.wasm, config.limits, config.cache_dir.as_deref())?,
            database: config.database,
            http: HttpClient::new(config.egress),
            namespace: Namespace::new(PLUGIN_NAME, &config.channel)?,
        })
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The plugin's requests that the egress policy refused.
    pub fn egress_denials(&self) -> Vec<String> {
        self.http.denied()
    }

    /// Translates one webhook delivery into inbox events (`inbound.translate`).
    pub fn translate(
        &self,
        delivery: &inbound::Delivery,
        options: &inbound::TranslateOptions,
    ) -> Result<Vec<InboxEvent>, CallError> {
        let events = self.call(|store, plugin| {
            plugin.helpdesk_messenger_connector_inbound().call_translate(store, delivery, options)
        })?;
        Ok(events.into_iter().map(convert::event).collect())
    }

    /// Answers Meta's subscription handshake (`inbound.verify-subscription`).
    pub fn verify_subscription(&self, request: &inbound::Handshake, expected_token: &str) -> Result<String, CallError> {
        self.call(|store, plugin| {
            plugin.helpdesk_messenger_connector_inbound().call_verify_subscription(store, request, expected_token)
        })
    }

    /// Translates a delivery and, in the same transaction as the plugin's writes, stores the delivery and its
    /// events: when this returns `Ok`, all of it is on disk.
    pub fn translate_recorded(
        &self,
        delivery: &inbound::Delivery,
        options: &inbound::TranslateOptions,
    ) -> Result<Vec<InboxEvent>, CallError> {
        self.call_then(
            |store, plugin| {
                let events = plugin.helpdesk_messenger_connector_inbound().call_translate(store, delivery, options)?;
                Ok(events.map(|events| events.into_iter().map(convert::event).collect::<Vec<_>>()))
            },
            |session, events| crate::journal::record_delivery(session, delivery.received_at, &delivery.body, events),
        )
    }

    /// Runs one export on a fresh instance inside one storage transaction.
    fn call<R, E: Refusal>(
        &self,
        export: impl FnOnce(&mut Store<State>, &MessengerConnector) -> wasmtime::Result<Result<R, E>>,
    ) -> Result<R, CallError> {
        self.call_then(export, |_, _| Ok(()))
    }

    /// Runs one export, then `before_commit` with its answer inside the same transaction.
    fn call_then<R, E: Refusal>(
        &self,
        export: impl FnOnce(&mut Store<State>, &MessengerConnector) -> wasmtime::Result<Result<R, E>>,
        before_commit: impl FnOnce(&crate::storage::Session, &R) -> Result<()>,
    ) -> Result<R, CallError> {
        let session = self.database.begin(self.namespace.clone()).map_err(CallError::Host)?;
        let state = State::new(session, self.http.clone(), self.runtime.limits());
        let (mut store, plugin) = self.runtime.instantiate(state).map_err(CallError::Host)?;
        let outcome = export(&mut store, &plugin);
        let session = store.into_data().into_session();
        match outcome {
            Ok(Ok(value)) => {
                before_commit(&session, &value).map_err(CallError::Host)?;
                session.commit().map_err(CallError::Host)?;
                Ok(value)
            }
            Ok(Err(refusal)) => {
                session.rollback().map_err(CallError::Host)?;
                Err(refusal.into_call_error())
            }
            Err(fault) => {
                drop(session);
                Err(CallError::PluginFault(describe_fault(fault)))
            }
        }
    }
}

/// A component's typed refusal, as a call error.
trait Refusal {
    fn into_call_error(self) -> CallError;
}

impl Refusal for types::ErrorInfo {
    fn into_call_error(self) -> CallError {
        CallError::Rejected(ConnectorError { code: self.code, message: self.message })
    }
}

impl Refusal for Vec<types::ErrorInfo> {
    fn into_call_error(self) -> CallError {
        CallError::Invalid(self.into_iter().map(|e| ConnectorError { code: e.code, message: e.message }).collect())
    }
}

/// What stopped the plugin, from the error's root cause: a trap, the deadline, or the limiter. Never the wasm
/// backtrace (noise for the caller).
fn describe_fault(fault: wasmtime::Error) -> String {
    let fault = anyhow::Error::from(fault);
    if let Some(trap) = fault.chain().find_map(|cause| cause.downcast_ref::<wasmtime::Trap>()) {
        return format!("the plugin trapped: {trap}");
    }
    if fault.chain().any(|cause| cause.to_string().contains(DEADLINE_EXCEEDED)) {
        return DEADLINE_EXCEEDED.to_owned();
    }
    let root = fault.root_cause().to_string();
    // StoreLimits' trap_on_grow_failure: the guest asked for more memory (or table) than its cap.
    if root.contains("when growing") {
        return format!("the plugin hit its memory limit: {root}");
    }
    format!("the plugin failed: {root}")
}

impl Harness {
    /// Refreshes an account's token (`expiry.refresh`); its new expiry.
    pub fn refresh_token(&self, account_id: &str, now: u64) -> Result<u64, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_expiry().call_refresh(store, account_id, now))
    }

    /// Links the accounts an authorization code gives (`expiry.link-accounts`).
    pub fn link_accounts(&self, request: &expiry::LinkRequest) -> Result<Vec<expiry::LinkedAccount>, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_expiry().call_link_accounts(store, request))
    }

    /// What selecting exactly `selected` would do (`expiry.plan-selection`), or does (`apply-selection`).
    pub fn select_accounts(&self, selected: &[String], apply: bool) -> Result<expiry::SelectionChange, CallError> {
        self.call(|store, plugin| {
            let exports = plugin.helpdesk_messenger_connector_expiry();
            if apply {
                exports.call_apply_selection(store, selected)
            } else {
                exports.call_plan_selection(store, selected)
            }
        })
    }

    /// Marks (or clears) the channel's representative account (`expiry.set-representative`).
    pub fn set_representative(&self, account_id: Option<&str>) -> Result<(), CallError> {
        self.call(|store, plugin| {
            plugin.helpdesk_messenger_connector_expiry().call_set_representative(store, account_id)
        })
    }

    /// The channel's linked accounts (`expiry.list-accounts`).
    pub fn list_accounts(&self) -> Result<Vec<expiry::AccountInfo>, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_expiry().call_list_accounts(store))
    }

    /// Evaluates an account link (`expiry.evaluate`).
    pub fn evaluate_link(
        &self,
        link: &crate::bindings::expiry::Link,
    ) -> Result<crate::bindings::expiry::LinkDecision, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_expiry().call_evaluate(store, link))
    }

    /// The stored filters of an account (`inbound.get-filters`).
    pub fn filters(&self, account_id: &str) -> Result<inbound::Filters, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_inbound().call_get_filters(store, account_id))
    }

    /// Stores the filters of an account (`inbound.set-filters`).
    pub fn set_filters(&self, account_id: &str, filters: inbound::Filters) -> Result<(), CallError> {
        self.call(|store, plugin| {
            plugin.helpdesk_messenger_connector_inbound().call_set_filters(store, account_id, filters)
        })
    }

    /// Validates a reply into a send plan (`outbound.validate`); every problem at once when invalid.
    pub fn validate_reply(
        &self,
        reply: &crate::bindings::outbound::Reply,
    ) -> Result<crate::bindings::outbound::SendPlan, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_outbound().call_validate(store, reply))
    }

    /// Sends a validated plan once (`outbound.send`); see `retry` for sending with retries.
    pub fn send_plan(
        &self,
        plan: &crate::bindings::outbound::SendPlan,
        now: u64,
    ) -> Result<Vec<crate::bindings::outbound::DeliveryStatus>, CallError> {
        self.call(|store, plugin| plugin.helpdesk_messenger_connector_outbound().call_send(store, plan, now))
    }
}
