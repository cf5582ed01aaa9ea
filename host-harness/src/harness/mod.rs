//! The host's entry point: every call gets a fresh pooled instance and one storage transaction, committed only
//! when the component answers `ok`. A trap or a refusal leaves the store as it was, and the next call works.
//! Calls take and give the core's types; the WIT's are converted once, by the core's `wit_mappings!`.

mod accounts;
mod calls;
mod history;
mod linking;
mod retry;

pub use accounts::{AccountOverview, FilterChange, FilterFields, Selection, link_of};
pub use retry::{Outcome, RetryPolicy, first_failure};

use crate::egress::{EgressPolicy, HttpClient};
use crate::runtime::Exports;
use crate::runtime::bindings::types;
use crate::runtime::limits::{DEADLINE_EXCEEDED, Limits};
use crate::runtime::{Runtime, State};
use crate::store::journal::DeliveryRecord;
use crate::store::{Conflict, Database, Namespace, Session, Writes};
use anyhow::Result;
use messenger_core::ConnectorError;
use messenger_core::events::InboxEvent;
use messenger_core::wire::Mirror;
use std::path::PathBuf;
use wasmtime::Store;

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
    /// Another writer changed what the call decided on before it could commit; nothing was stored. Retryable.
    Conflict(String),
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
            Self::Conflict(why) => ConnectorError::new("storage-conflict", why.clone()),
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
    /// Translate deliveries with the core linked into the host instead of through the component: no sandbox.
    /// Only `bench` sets it, to price the sandbox end to end (`serve_native_ratio`).
    pub native_inbound: bool,
}

impl HarnessConfig {
    /// The built component, an in-memory store, Meta's Graph hosts, default limits and cache, channel `default`.
    pub fn new(database: Database) -> Self {
        Self {
            wasm: crate::PLUGIN_WASM.to_vec(),
            limits: Limits::default(),
            cache_dir: crate::runtime::default_cache_dir(),
            database,
            egress: EgressPolicy::default(),
            channel: "default".into(),
            native_inbound: false,
        }
    }
}

/// The component, loaded once, run for one channel's calls. A clone shares the component, store and egress.
#[derive(Clone)]
pub struct Harness {
    runtime: std::sync::Arc<Runtime>,
    database: Database,
    http: HttpClient,
    namespace: Namespace,
    native_inbound: bool,
}

impl Harness {
    pub fn new(config: HarnessConfig) -> Result<Self> {
        Ok(Self {
            runtime: std::sync::Arc::new(Runtime::new(&config.wasm, config.limits, config.cache_dir.as_deref())?),
            database: config.database,
            http: HttpClient::new(config.egress),
            namespace: Namespace::new(PLUGIN_NAME, &config.channel)?,
            native_inbound: config.native_inbound,
        })
    }

    /// The same component, store and egress, for another channel's storage namespace.
    pub fn for_channel(&self, channel: &str) -> Result<Harness> {
        Ok(Self {
            runtime: self.runtime.clone(),
            database: self.database.clone(),
            http: self.http.clone(),
            namespace: Namespace::new(PLUGIN_NAME, channel)?,
            native_inbound: self.native_inbound,
        })
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// Where Graph traffic goes instead of Meta's hosts, if it was rerouted (`--graph-url`).
    pub fn graph_override(&self) -> Option<String> {
        self.http.policy().graph_origin()
    }

    /// The plugin's requests that the egress policy refused.
    pub fn egress_denials(&self) -> Vec<String> {
        self.http.denied()
    }

    /// Runs one export on a fresh instance, its writes committed together when it answers `ok`.
    fn call<R, E: Refusal>(
        &self,
        export: impl Fn(&mut Store<State>, &Exports) -> wasmtime::Result<Result<R, E>>,
    ) -> Result<R, CallError> {
        self.call_then(Writes::Buffered, export, Nothing)
    }

    /// Runs one export whose writes are facts once its Graph request went out (a send, a profile change): each
    /// is written through at once (see store::session), and kept though the call fails.
    fn call_write_through<R, E: Refusal>(
        &self,
        export: impl Fn(&mut Store<State>, &Exports) -> wasmtime::Result<Result<R, E>>,
    ) -> Result<R, CallError> {
        self.call_then(Writes::WriteThrough, export, Nothing)
    }

    /// Runs one export, then `before_commit` with its answer inside the transaction that commits its writes. A
    /// buffered call that lost a race to another writer is run again, a few times: it read nothing the other writer
    /// had not yet committed, and its network requests are reads (a profile, a token exchange's answer), so
    /// running it again changes nothing but the outcome of the race (e.g. a delivery found already stored).
    fn call_then<R, E: Refusal>(
        &self,
        writes: Writes,
        export: impl Fn(&mut Store<State>, &Exports) -> wasmtime::Result<Result<R, E>>,
        before_commit: impl BeforeCommit<R>,
    ) -> Result<R, CallError> {
        retried(writes, || self.call_once(writes, &export, &before_commit))
    }

    fn call_once<R, E: Refusal>(
        &self,
        writes: Writes,
        export: &impl Fn(&mut Store<State>, &Exports) -> wasmtime::Result<Result<R, E>>,
        before_commit: &impl BeforeCommit<R>,
    ) -> Result<R, CallError> {
        let session = self.database.begin_call(self.namespace.clone(), writes);
        let state = State::new(session, self.http.clone(), self.runtime.limits());
        let (mut store, plugin) = self.runtime.instantiate(state).map_err(CallError::Host)?;
        let outcome = export(&mut store, &plugin);
        let session = store.into_data().into_session();
        match outcome {
            Ok(Ok(value)) => committed(session, value, before_commit),
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

    /// `call_then` for a translation with the core linked natively (`HarnessConfig::native_inbound`): the same
    /// session, journal, commit and retries, without the component.
    fn translate_natively(
        &self,
        delivery: &messenger_core::inbound::Delivery,
        options: &messenger_core::inbound::TranslateOptions,
        before_commit: impl BeforeCommit<Vec<InboxEvent>>,
    ) -> Result<Vec<InboxEvent>, CallError> {
        retried(Writes::Buffered, || {
            let session = self.database.begin_call(self.namespace.clone(), Writes::Buffered);
            match messenger_core::inbound::translate(delivery, options, &session, &self.http) {
                Ok(events) => committed(session, events, &before_commit),
                Err(refusal) => {
                    session.rollback().map_err(CallError::Host)?;
                    Err(refused(refusal))
                }
            }
        })
    }
}

/// Runs a call, again when a buffered call lost a storage race (see `call_then`), a few times.
fn retried<R>(writes: Writes, attempt: impl Fn() -> Result<R, CallError>) -> Result<R, CallError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt() {
            Err(CallError::Conflict(why)) if writes == Writes::Buffered && tries < CONFLICT_TRIES => {
                tracing::debug!(why, "a call lost a storage race; running it again");
            }
            other => return other,
        }
    }
}

/// Commits a call that answered `value`, with `before_commit` in the same transaction; a lost race is a `Conflict`.
fn committed<R>(session: Session, value: R, before_commit: &impl BeforeCommit<R>) -> Result<R, CallError> {
    before_commit.commit(session, &value).map_err(|error| {
        match error.chain().find_map(|cause| cause.downcast_ref::<Conflict>()) {
            Some(conflict) => CallError::Conflict(conflict.to_string()),
            None => CallError::Host(error),
        }
    })?;
    Ok(value)
}

/// How a call's writes are committed once it answered: with what the host records of its answer, in the same
/// transaction.
pub(crate) trait BeforeCommit<R> {
    fn commit(&self, session: Session, value: &R) -> Result<()>;
}

/// Nothing recorded: the call's writes alone, in a transaction of their own.
struct Nothing;

impl<R> BeforeCommit<R> for Nothing {
    fn commit(&self, session: Session, _: &R) -> Result<()> {
        session.commit()
    }
}

/// A closure given the session before its commit, in a transaction of the call's own.
pub(crate) struct InSession<F>(F);

/// `f` run on the session before its commit (the bound lets the closure's argument types be inferred).
pub(crate) fn in_session<R, F: Fn(&Session, &R) -> Result<()>>(f: F) -> InSession<F> {
    InSession(f)
}

impl<R, F: Fn(&Session, &R) -> Result<()>> BeforeCommit<R> for InSession<F> {
    fn commit(&self, session: Session, value: &R) -> Result<()> {
        session.commit_with(|session| (self.0)(session, value))
    }
}

/// A delivery's record, built from the answer and written in a transaction shared with the deliveries that
/// commit at the same time (`store::group`): serve's hot path.
pub(crate) struct Grouped<F>(F);

/// `f`'s record written in a group commit (the bound lets the closure's argument type be inferred).
pub(crate) fn grouped<R, F: Fn(&R) -> Result<DeliveryRecord>>(f: F) -> Grouped<F> {
    Grouped(f)
}

impl<R, F: Fn(&R) -> Result<DeliveryRecord>> BeforeCommit<R> for Grouped<F> {
    fn commit(&self, session: Session, value: &R) -> Result<()> {
        let record = (self.0)(value)?;
        session.commit_grouped(move |tx, ns| record.write(tx, ns))
    }
}

/// How many times a buffered call that keeps losing storage races is run before it fails as a `Conflict`.
const CONFLICT_TRIES: u32 = 4;

/// A component's typed refusal, as a call error.
trait Refusal {
    fn into_call_error(self) -> CallError;
}

impl Refusal for types::ErrorInfo {
    fn into_call_error(self) -> CallError {
        refused(self.mirror())
    }
}

/// A refusal as a call error: the component's own `storage-conflict` (a dedup mark another writer stored between
/// its read and its write) is a `Conflict` like the store's at commit, and is retried the same way.
fn refused(error: ConnectorError) -> CallError {
    match error.code == messenger_core::codes::STORAGE_CONFLICT {
        true => CallError::Conflict(error.message),
        false => CallError::Rejected(error),
    }
}

impl Refusal for Vec<types::ErrorInfo> {
    fn into_call_error(self) -> CallError {
        CallError::Invalid(self.mirror())
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
