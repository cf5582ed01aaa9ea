//! The compile cache: a compilation is stored with the SHA-256 of its own bytes and loaded only when they check.
//! A cache entry is native code this process will run, and a digest stops only accidents: so the cache directory
//! and each entry must belong to this user and be writable by nobody else, or the cache is not used at all (the
//! component is compiled in memory). Entries are written 0600 under an unpredictable temporary name, then renamed.

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
    if let Err(why) = trusted_dir(dir) {
        tracing::warn!(dir = %dir.display(), why, "the compile cache is not private: compiling without it");
        return Component::new(engine, wasm).map_err(|e| anyhow::Error::from(e).context("compiling the component"));
    }
    let path = cache_path(engine, wasm, dir);
    if trusted_file(&path)
        && let Ok(bytes) = std::fs::read(&path)
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

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use ring::rand::SecureRandom;
    let mut nonce = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut nonce).map_err(|_| anyhow::anyhow!("no randomness"))?;
    // Unpredictable, and created exclusively: nobody can plant or pre-link the file we are about to fill.
    let temp = path.with_extension(format!("tmp-{}", messenger_core::hex::encode(&nonce)));
    crate::store::files::write_private(&temp, bytes, true)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })?;
    Ok(())
}

/// The cache directory, created owner-only when missing, must be a directory of this user that nobody else can
/// write to.
fn trusted_dir(dir: &Path) -> Result<(), &'static str> {
    use std::os::unix::fs::MetadataExt;
    crate::store::files::private_dir(dir).map_err(|_| "it cannot be created")?;
    let meta = std::fs::symlink_metadata(dir).map_err(|_| "it cannot be read")?;
    if !meta.is_dir() {
        return Err("it is not a directory");
    }
    if meta.uid() != current_uid() {
        return Err("another user owns it");
    }
    if meta.mode() & 0o022 != 0 {
        return Err("others may write to it");
    }
    Ok(())
}

/// An entry is loaded only when it is a plain file of this user that nobody else can write to.
fn trusted_file(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.uid() == current_uid() && meta.mode() & 0o022 == 0)
}

fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
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
