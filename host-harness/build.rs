//! Builds the component for wasm32-wasip2 (profile `plugin`) so that `cargo build`, `cargo run` and `cargo test`
//! need no manual step, and exposes its path as `MESSENGER_PLUGIN_WASM`. Setting that variable to an existing
//! .wasm skips the build.

use messenger_build_support::{build_wasm_component, nested_target_dir};

fn main() {
    println!("cargo:rerun-if-env-changed=MESSENGER_PLUGIN_WASM");
    if let Ok(prebuilt) = std::env::var("MESSENGER_PLUGIN_WASM") {
        println!("cargo:rustc-env=MESSENGER_PLUGIN_WASM={prebuilt}");
        return;
    }
    let manifest_dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    // The workspace Cargo.toml holds the `plugin` profile: a change there must rebuild the component too.
    for watched in [
        "Cargo.toml",
        "plugin/src",
        "plugin/core/src",
        "plugin/Cargo.toml",
        "plugin/build.rs",
        "plugin/core/Cargo.toml",
        "wit",
        "Cargo.lock",
        "host-harness/build-support/src",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(watched).display());
    }
    // A target dir of its own: the outer cargo holds the lock on the main one.
    let wasm = build_wasm_component(
        &workspace,
        &["-p", "messenger-plugin"],
        "plugin",
        &nested_target_dir("plugin-wasm"),
        "messenger_plugin",
    );
    println!("cargo:rustc-env=MESSENGER_PLUGIN_WASM={}", wasm.display());
}
