//! The floor a reset instance could reach: one store and instance kept across deliveries, with only the host's
//! per-call state (storage session, deadline, caps) renewed. `bench` measures it beside the fresh instance each
//! served delivery gets, to price that isolation; nothing serves this way (after a trap an instance is poisoned, and
//! a kept instance carries one call's memory into the next).

use crate::egress::{EgressPolicy, HttpClient};
use crate::harness::PLUGIN_NAME;
use crate::runtime::bindings::MessengerConnector;
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
    instance: MessengerConnector,
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
        let (store, instance) = runtime.instantiate(state)?;
        Ok(Self { store, instance, database, namespace, limits, _runtime: runtime })
    }

    /// What `Harness::translate` does (the same conversions, a buffered session, its commit), on the kept instance.
    pub fn translate(&mut self, delivery: &Delivery, options: &TranslateOptions) -> Result<Vec<InboxEvent>> {
        let (delivery, options) = (delivery.clone().mirror(), options.clone().mirror());
        let session = self.database.begin_call(self.namespace.clone(), Writes::Buffered);
        self.store.data_mut().renew(session, &self.limits);
        let outcome =
            self.instance.helpdesk_messenger_connector_inbound().call_translate(&mut self.store, &delivery, &options);
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
