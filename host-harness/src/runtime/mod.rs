//! The wasmtime runtime: the engine, the component and its pre-instantiation (compile once, or load a cached
//! compilation), limits, and the per-call state with one module per imported capability (`http`, `storage`), each
//! holding its own `Host` impl, as Spin's factors do.

pub(crate) mod bindings;
mod cache;
mod exports;
mod http;
pub mod limits;
mod state;
mod storage;

pub(crate) use cache::default_cache_dir;
pub use exports::Exports;
pub(crate) use state::State;

use anyhow::Result;
use bindings::MessengerConnector;
use exports::ExportIndices;
use limits::{EpochTicker, Limits};
use std::path::Path;
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline};

/// How many instances may be alive at once (pool slots).
pub const POOL_INSTANCES: u32 = 64;

/// Linear memory kept resident per pool slot: the measured peak of a delivery (`instance_memory_bytes`, 393,216 for a
/// 10-message batch: the guest's 256 KiB stack, 64 KiB of data, one heap page), which is also the component's initial
/// memory (`plugin/build.rs`), so a delivery never grows it. Larger calls give the rest back.
/// At most 64 slots × 384 KiB = 24 MiB stay resident (32 MiB at the 512 KiB before, for no measured gain).
pub const KEEP_RESIDENT_MEMORY: usize = 384 << 10;
/// Table bytes kept resident per pool slot: one page holds the component's two tables (139 and 18 funcrefs, 1,256
/// bytes); 64 KiB before.
pub const KEEP_RESIDENT_TABLE: usize = 4 << 10;

/// The compiled component, ready to instantiate.
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<State>,
    exports: ExportIndices,
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
        let pre = linker.instantiate_pre(&component)?;
        let exports = ExportIndices::new(&pre)?;
        let ticker = EpochTicker::start(&engine);
        Ok(Self { engine, pre, exports, limits, _ticker: ticker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A store for one call, with its limits and deadline armed, and a fresh instance in it, whose exports are
    /// type-checked as the call uses them.
    pub fn instantiate(&self, state: State) -> Result<(Store<State>, Exports<'_>)> {
        let mut store = self.store(state);
        let instance = self.pre.instantiate(&mut store)?;
        Ok((store, Exports::new(instance, &self.exports)))
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
        // The cap, not the peak: a slot's size costs address space, not time, and a 1 MiB delivery needs several
        // MiB where a text needs 384 KiB. The memory limit (StoreLimits) holds each call to the same figure.
        .max_memory_size(limits.memory_bytes)
        .table_elements(limits.table_elements)
        // A slot's pages up to here are reset in place for the next instance instead of being given back to the
        // kernel: no page faults and TLB shootdowns on every call (measured: 10 faults per delivery to none).
        .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
        .table_keep_resident(KEEP_RESIDENT_TABLE)
        // Reset only the pages a call wrote (Linux's PAGEMAP_SCAN, kernel 6.7+; elsewhere the whole window, as
        // before), not all 96 resident pages: the stack's deep pages a call never reaches are skipped, and the
        // image's pages it only read stay shared. Measured: an instance's teardown 8.7 µs to 4.0 µs, a delivery's
        // fastest rounds 82.5 to 73.7 µs (BENCHMARKS.md, tuning log step 8).
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        // The core module's data segments (64 KiB at 256 KiB, above the guest's stack) become one read-only memfd
        // image that each slot maps copy-on-write, instead of being copied into every instance; wasmtime's default,
        // set here because the pagemap reset above relies on it (without it, in one interleaved run: 75.3 µs against
        // 70.3 per delivery).
        // `the_core_module_gets_a_copy_on_write_image` checks that the image is mapped.
        .memory_init_cow(true)
        // An image is always built up to the memory cap, however sparse its segments (the default, 16 MiB, is the
        // cap today): the component's is dense anyway (64 KiB of pages for 63,990 bytes of data).
        .memory_guaranteed_dense_image_size(limits.memory_bytes as u64);
    if pooled {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::{EgressPolicy, HttpClient};
    use crate::store::{Database, Namespace, Writes};

    /// The data segments reach an instance as the memfd image `memory_init_cow` maps, not as copies.
    #[test]
    fn the_core_module_gets_a_copy_on_write_image() {
        let runtime = Runtime::new(crate::PLUGIN_WASM, Limits::default(), None).unwrap();
        let session =
            Database::in_memory().unwrap().begin_call(Namespace::new("instagram", "cow").unwrap(), Writes::Buffered);
        let state = State::new(session, HttpClient::new(EgressPolicy::default()), runtime.limits());
        let _instance = runtime.instantiate(state).unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(maps.contains("/memfd:wasm-memory-image"), "no memory image is mapped:\n{maps}");
    }
}
