//! The engine, the component and its pre-instantiation: compile once (or load a cached compilation), then give
//! every call a fresh, pooled instance.

use crate::bindings::{MessengerConnector, MessengerConnectorPre};
use crate::limits::{EpochTicker, Limits};
use crate::state::State;
use anyhow::Result;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
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
            Some(dir) => load_cached(&engine, wasm, dir)?,
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
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            if ctx.data().clock.is_over() {
                return Err(wasmtime::Error::msg(crate::harness::DEADLINE_EXCEEDED));
            }
            Ok(UpdateDeadline::Continue(1))
        });
        let instance = self.pre.instantiate(&mut store)?;
        Ok((store, instance))
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

/// Loads the compilation of `wasm` for this engine from `dir`, or compiles and stores it. A cache entry carries
/// the SHA-256 of its own bytes, so a truncated or corrupted file is recompiled, never loaded. The cache dir must
/// be as trusted as this binary.
fn load_cached(engine: &Engine, wasm: &[u8], dir: &Path) -> Result<Component> {
    let path = cache_path(engine, wasm, dir);
    if let Ok(bytes) = std::fs::read(&path)
        && let Some((compiled, digest)) = bytes.split_last_chunk::<32>()
        && Sha256::digest(compiled).as_slice() == digest
    {
        // SAFETY: the bytes are this engine's own `precompile_component` output, checked whole by their digest.
        if let Ok(component) = unsafe { Component::deserialize(engine, compiled) } {
            return Ok(component);
        }
    }
    let mut compiled =
        engine.precompile_component(wasm).map_err(|e| anyhow::Error::from(e).context("compiling the component"))?;
    let digest = Sha256::digest(&compiled);
    compiled.extend_from_slice(&digest);
    // Best effort: a read-only or full disk only costs the next run a compilation.
    let _ = write_atomically(&path, &compiled);
    compiled.truncate(compiled.len() - 32);
    // SAFETY: produced just above by this engine.
    unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| anyhow::Error::from(e).context("loading the compiled component"))
}

fn cache_path(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let wasm_digest = messenger_core::hex::encode(&Sha256::digest(wasm)[..16]);
    dir.join(format!("{wasm_digest}-{:016x}.cwasm", hasher.finish()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    // Unique per writer: threads of one process may fill the same entry at once.
    static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let writer = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = path.with_extension(format!("tmp{}-{writer}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)
}

/// Where compilations are cached by default: `$MESSENGER_CACHE_DIR`, else `$XDG_CACHE_HOME/messenger-harness`, else
/// `~/.cache/messenger-harness`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MESSENGER_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("messenger-harness"))
}
