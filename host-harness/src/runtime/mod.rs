//! The wasmtime runtime: the engine, the component and its pre-instantiation (compile once, or load a cached
//! compilation), limits, and the per-call state with one module per imported capability (`http`, `storage`), each
//! holding its own `Host` impl, as Spin's factors do.

pub(crate) mod bindings;
mod cache;
mod http;
pub mod limits;
mod state;
mod storage;

pub(crate) use cache::default_cache_dir;
pub(crate) use state::State;

use anyhow::Result;
use bindings::{MessengerConnector, MessengerConnectorPre};
use limits::{EpochTicker, Limits};
use std::path::Path;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline};

/// How many instances may be alive at once (pool slots).
pub const POOL_INSTANCES: u32 = 64;

/// Linear memory kept resident per pool slot: the guest's 256 KiB stack, its data and its first heap pages.
pub const KEEP_RESIDENT_MEMORY: usize = 512 << 10;
/// Table bytes kept resident per pool slot.
pub const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// The compiled component, ready to instantiate.
pub struct Runtime {
    engine: Engine,
    pre: MessengerConnectorPre<State>,
    limits: Limits,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Compiles `wasm` (or loads it from `cache_dir`), links WASI (granting nothing) and the two imports.
    pub fn new(wasm: &[u8], limits: Limits, cache_dir: Option<&Path>) -> Result<Self> {
        Self::with_allocation(wasm, limits, cache_dir, true)
    }

    /// As `new`, choosing the pooling allocator or on-demand allocation (the benchmark compares them).
    pub fn with_allocation(wasm: &[u8], limits: Limits, cache_dir: Option<&Path>, pooled: bool) -> Result<Self> {
        let engine = Engine::new(&engine_config(&limits, pooled))?;
        let component = match cache_dir {
            Some(dir) => cache::load_cached(&engine, wasm, dir)?,
            None => {
                Component::new(&engine, wasm).map_err(|e| anyhow::Error::from(e).context("compiling the component"))?
            }
        };
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        MessengerConnector::add_to_linker::<State, HasSelf<State>>(&mut linker, |state| state)?;
        let pre = MessengerConnectorPre::new(linker.instantiate_pre(&component)?)?;
        let ticker = EpochTicker::start(&engine);
        Ok(Self { engine, pre, limits, _ticker: ticker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A store for one call, with its limits and deadline armed, and a fresh instance in it.
    pub fn instantiate(&self, state: State) -> Result<(Store<State>, MessengerConnector)> {
        let mut store = self.store(state);
        let instance = self.pre.instantiate(&mut store)?;
        Ok((store, instance))
    }

    /// As `instantiate`, without the bindings' lookup and type check of every export (which `instantiate` repeats
    /// per instance): the benchmark's split of what instantiation costs.
    pub(crate) fn instantiate_untyped(&self, state: State) -> Result<Store<State>> {
        let mut store = self.store(state);
        self.pre.instance_pre().instantiate(&mut store)?;
        Ok(store)
    }

    /// A store with the call's limits and deadline armed.
    fn store(&self, state: State) -> Store<State> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if let Some(reason) = ctx.data().clock.stop_reason() {
                return Err(wasmtime::Error::msg(reason));
            }
            Ok(UpdateDeadline::Continue(1))
        });
        store
    }
}

/// The engine settings the runtime uses, for a given allocation strategy.
pub fn engine_config(limits: &Limits, pooled: bool) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * limits.instances as u32)
        .total_memories(POOL_INSTANCES * limits.memories as u32)
        .total_tables(POOL_INSTANCES * limits.tables as u32)
        .max_memory_size(limits.memory_bytes)
        .table_elements(limits.table_elements)
        // A slot's first pages are reset in place for the next instance instead of being given back to the
        // kernel: no page faults and TLB shootdowns on every call (measured: 10 faults per delivery to none).
        .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
        .table_keep_resident(KEEP_RESIDENT_TABLE);
    let mut config = Config::new();
    config.epoch_interruption(true);
    if pooled {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}
