//! Builds the component for wasm32-wasip2 (profile `plugin`) so that `cargo build`, `cargo run` and `cargo test`
//! need no manual step, and exposes its path as `MESSENGER_PLUGIN_WASM`. Setting that variable to an existing
//! .wasm skips the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=MESSENGER_PLUGIN_WASM");
    if let Ok(prebuilt) = std::env::var("MESSENGER_PLUGIN_WASM") {
        println!("cargo:rustc-env=MESSENGER_PLUGIN_WASM={prebuilt}");
        return;
    }
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    for watched in ["plugin/src", "plugin/core/src", "plugin/Cargo.toml", "plugin/core/Cargo.toml", "wit", "Cargo.lock"]
    {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }
    // A target dir of its own: the outer cargo holds the lock on the main one.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = out_dir.ancestors().nth(4).map_or_else(|| out_dir.join("wasm"), |t| t.join("plugin-wasm"));
    ensure_wasm_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&workspace)
        .args(["build", "-p", "messenger-plugin", "--target", "wasm32-wasip2", "--profile", "plugin", "--target-dir"])
        .arg(&target_dir);
    // The outer build's flags and target are for the host, not the component.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        build.env_remove(var);
    }
    let status = build.status().expect("running cargo to build the component");
    assert!(
        status.success(),
        "building the component failed; is the target installed? `rustup target add wasm32-wasip2`"
    );
    let wasm = target_dir.join("wasm32-wasip2/plugin/messenger_plugin.wasm");
    assert!(Path::new(&wasm).exists(), "the component was not produced at {}", wasm.display());
    println!("cargo:rustc-env=MESSENGER_PLUGIN_WASM={}", wasm.display());
}

/// A fresh machine has no wasm32-wasip2 standard library: add it through rustup, once.
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().expect("running rustc --print sysroot");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib/wasm32-wasip2").exists() {
        return;
    }
    println!("cargo:warning=installing the wasm32-wasip2 target with rustup (needed to build the component)");
    let status = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed; run it by hand"
    );
}
