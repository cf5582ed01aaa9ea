//! The floor a reset instance could reach: one store and instance kept across deliveries, with only the host's
//! per-call state (storage session, deadline, caps) renewed. `bench` measures it beside the fresh instance each
//! served delivery gets, to price that isolation; nothing serves this way (after a trap an instance is poisoned, and
//! a kept instance carries one call's memory into the next).

use crate::egress::{EgressPolicy, HttpClient};
use crate::harness::PLUGIN_NAME;
use crate::runtime::bindings::inbound;
use crate::runtime::limits::Limits;
use crate::runtime::{Runtime, State};
use crate::store::{Database, Namespace, Writes};
use anyhow::Result;
use messenger_core::events::InboxEvent;
use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_core::wire::Mirror;
use wasmtime::Store;

/// One instance kept for every delivery, on a runtime and limits of its own (the harness's defaults).
pub struct ReusedInstance {
    store: Store<State>,
    /// The kept instance's inbound functions, looked up and type-checked once.
    inbound: inbound::Guest,
    database: Database,
    namespace: Namespace,
    limits: Limits,
    _runtime: Runtime,
}

impl ReusedInstance {
    pub fn new(database: Database, channel: &str) -> Result<Self> {
        let limits = Limits::default();
        let runtime = Runtime::new(crate::PLUGIN_WASM, limits, None)?;
        let namespace = Namespace::new(PLUGIN_NAME, channel)?;
        let session = database.begin_call(namespace.clone(), Writes::Buffered);
        let state = State::new(session, HttpClient::new(EgressPolicy::default()), &limits);
        let (mut store, exports) = runtime.instantiate(state)?;
        let inbound = exports.inbound(&mut store)?;
        Ok(Self { store, inbound, database, namespace, limits, _runtime: runtime })
    }

    /// What `Harness::translate` does (the same conversions, a buffered session, its commit), on the kept instance.
    pub fn translate(&mut self, delivery: &Delivery, options: &TranslateOptions) -> Result<Vec<InboxEvent>> {
        let (delivery, options) = (delivery.clone().mirror(), options.clone().mirror());
        let session = self.database.begin_call(self.namespace.clone(), Writes::Buffered);
        self.store.data_mut().renew(session, &self.limits);
        let outcome = self.inbound.call_translate(&mut self.store, &delivery, &options);
        let session = self.store.data_mut().take_session();
        match outcome.map_err(anyhow::Error::from)? {
            Ok(events) => {
                session.commit()?;
                Ok(events.mirror())
            }
            Err(refusal) => {
                session.rollback()?;
                anyhow::bail!("refused: {}", refusal.message)
            }
        }
    }
}
