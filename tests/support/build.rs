//! Builds the test-only hostile guest (tests/guests/hostile) and writes the built components' paths as constants
//! (`OUT_DIR/components.rs`), as wasmtime's test-programs do.

fn main() {
    let manifest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let guest = manifest.join("../guests/hostile");
    for watched in ["src", "Cargo.toml", "../../../wit"] {
        println!("cargo:rerun-if-changed={}", guest.join(watched).display());
    }
    let wasm = messenger_build_support::build_wasm_component(
        &guest,
        &[],
        "release",
        &messenger_build_support::nested_target_dir("hostile-guest-wasm"),
        "hostile_guest",
    );
    let constants = format!(
        "/// The hostile test guest: loops, allocates, panics and reaches where it may not.\npub const HOSTILE_GUEST_COMPONENT: &str = {:?};\n",
        wasm.display().to_string()
    );
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("components.rs");
    std::fs::write(out, constants).expect("writing components.rs");
}
