//! The compile cache: a compilation is stored with the SHA-256 of its own bytes and loaded only when they check.

use anyhow::Result;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Loads the compilation of `wasm` for this engine from `dir`, or compiles and stores it. A cache entry carries
/// the SHA-256 of its own bytes, so a truncated or corrupted file is recompiled, never loaded. The cache dir must
/// be as trusted as this binary.
pub(super) fn load_cached(engine: &Engine, wasm: &[u8], dir: &Path) -> Result<Component> {
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
