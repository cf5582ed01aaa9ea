//! One instance's exports, each interface looked up and type-checked only when a call uses it. The bindings'
//! `MessengerConnectorPre::instantiate` checks the type of every export of every interface on every instance:
//! about 5 µs a call, of which a translation needs the inbound interface's 1.5 (BENCHMARKS.md, tuning log step 15).

use super::State;
use super::bindings::{expiry, history, inbound, linking, messenger_profile, outbound};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};
use wasmtime::error::Context;

/// Where each exported interface's functions are in the component: found once per `Runtime`.
pub(crate) struct ExportIndices {
    inbound: inbound::GuestIndices,
    outbound: outbound::GuestIndices,
    expiry: expiry::GuestIndices,
    messenger_profile: messenger_profile::GuestIndices,
    linking: linking::GuestIndices,
    history: history::GuestIndices,
}

impl ExportIndices {
    /// Finds every interface's functions by name; fails if the component lacks one.
    pub(crate) fn new(pre: &InstancePre<State>) -> wasmtime::Result<Self> {
        Ok(Self {
            inbound: inbound::GuestIndices::new(pre)?,
            outbound: outbound::GuestIndices::new(pre)?,
            expiry: expiry::GuestIndices::new(pre)?,
            messenger_profile: messenger_profile::GuestIndices::new(pre)?,
            linking: linking::GuestIndices::new(pre)?,
            history: history::GuestIndices::new(pre)?,
        })
    }
}

/// A fresh instance's exports: each accessor type-checks its interface's functions against the bindings and hands
/// them out, failing (a host error, before any guest code runs) if the component's types differ.
pub struct Exports<'a> {
    instance: Instance,
    indices: &'a ExportIndices,
}

impl<'a> Exports<'a> {
    pub(crate) fn new(instance: Instance, indices: &'a ExportIndices) -> Self {
        Self { instance, indices }
    }

    /// `inbound`: webhook deliveries, the subscription handshake, the filters.
    pub fn inbound(&self, store: &mut Store<State>) -> wasmtime::Result<inbound::Guest> {
        self.indices.inbound.load(store, &self.instance).context("type-checking the component's `inbound` exports")
    }

    /// `outbound`: replies validated and sent.
    pub fn outbound(&self, store: &mut Store<State>) -> wasmtime::Result<outbound::Guest> {
        self.indices.outbound.load(store, &self.instance).context("type-checking the component's `outbound` exports")
    }

    /// `expiry`: the link's accounts, tokens and expiry.
    pub fn expiry(&self, store: &mut Store<State>) -> wasmtime::Result<expiry::Guest> {
        self.indices.expiry.load(store, &self.instance).context("type-checking the component's `expiry` exports")
    }

    /// `messenger-profile`: ice breakers and the other profile settings.
    pub fn messenger_profile(&self, store: &mut Store<State>) -> wasmtime::Result<messenger_profile::Guest> {
        self.indices
            .messenger_profile
            .load(store, &self.instance)
            .context("type-checking the component's `messenger-profile` exports")
    }

    /// `linking`: webhook subscriptions, deauthorization, token probes.
    pub fn linking(&self, store: &mut Store<State>) -> wasmtime::Result<linking::Guest> {
        self.indices.linking.load(store, &self.instance).context("type-checking the component's `linking` exports")
    }

    /// `history`: the Conversations API backfill.
    pub fn history(&self, store: &mut Store<State>) -> wasmtime::Result<history::Guest> {
        self.indices.history.load(store, &self.instance).context("type-checking the component's `history` exports")
    }
}
