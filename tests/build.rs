//! Builds the test-only hostile guest (tests/guests/hostile) and exposes its path as `HOSTILE_GUEST_WASM`.

include!("../host-harness/wasm_build.rs");

fn main() {
    let guest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("guests/hostile");
    for watched in ["src", "Cargo.toml", "../../../wit"] {
        println!("cargo:rerun-if-changed={}", guest.join(watched).display());
    }
    let wasm = build_wasm_component(&guest, &[], "release", &nested_target_dir("hostile-guest-wasm"), "hostile_guest");
    println!("cargo:rustc-env=HOSTILE_GUEST_WASM={}", wasm.display());
}
