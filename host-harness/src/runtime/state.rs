//! The per-call store state. WASI is linked because Rust's std needs it, but its context grants nothing: no files,
//! environment, sockets, clocks beyond the defaults, or stdio. The imports' `Host` impls live beside it, one
//! module per capability (`http`, `storage`).

use super::limits::{CallBudget, CallClock, Limiter, Limits};
use crate::egress::HttpClient;
use crate::store::Session;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limiter: Limiter,
    pub(super) clock: CallClock,
    pub(super) budget: CallBudget,
    pub(super) session: Option<Session>,
    pub(super) http: HttpClient,
    /// How many times the guest called the `storage` import (a batch is one): what batching saves.
    pub(super) storage_crossings: usize,
}

impl State {
    pub fn new(session: Session, http: HttpClient, limits: &Limits) -> Self {
        Self {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            limiter: limits.limiter(),
            clock: CallClock::with_wall_clock(limits.call_deadline, limits.call_wall_clock),
            budget: CallBudget::new(limits),
            session: Some(session),
            http,
            storage_crossings: 0,
        }
    }

    /// The largest linear memory the guest reached in this store.
    pub fn peak_memory_bytes(&self) -> usize {
        self.limiter.peak_memory_bytes
    }

    /// How often the guest grew its memory past the initial size in this store.
    pub fn memory_grows(&self) -> usize {
        self.limiter.memory_grows
    }

    /// How many `storage` calls the guest made in this store.
    pub fn storage_crossings(&self) -> usize {
        self.storage_crossings
    }

    /// Counts host operations writing `bytes`, and refuses them (trapping the guest) once the call is past a cap or its
    /// wall-clock limit: the guest gets no answer to loop on.
    pub(super) fn admit(&mut self, operations: usize, bytes: usize) -> wasmtime::Result<()> {
        self.budget.charge(operations, bytes).map_err(wasmtime::Error::msg)?;
        match self.clock.remaining().is_zero() {
            true => Err(wasmtime::Error::msg(super::limits::WALL_CLOCK_EXCEEDED)),
            false => Ok(()),
        }
    }

    /// Gives back the call's storage session, to commit or roll back.
    pub fn into_session(mut self) -> Session {
        self.take_session()
    }

    /// Readies the state for another call in the same store: a new session, the deadline, wall clock and caps
    /// counted from now. Only the benchmark keeps a store across calls, to measure the floor a reset instance could
    /// reach (`delivery_reused_instance_us`); a served call always gets a fresh store and instance.
    pub fn renew(&mut self, session: Session, limits: &Limits) {
        self.session = Some(session);
        self.restart(limits);
    }

    /// As `renew`, keeping the session: the benchmark's warm-instance rows make thousands of calls on one store,
    /// which would otherwise pass one call's cap on host calls (and its wall clock) together.
    pub fn restart(&mut self, limits: &Limits) {
        self.clock = CallClock::with_wall_clock(limits.call_deadline, limits.call_wall_clock);
        self.budget = CallBudget::new(limits);
        self.storage_crossings = 0;
    }

    /// Takes the call's storage session out of a state that stays in its store (see `renew`).
    pub fn take_session(&mut self) -> Session {
        self.session.take().expect("the session stays in the state until the call ends")
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl super::bindings::types::Host for State {}
