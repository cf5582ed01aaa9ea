//! For build scripts: builds a wasm32-wasip2 component with a nested cargo (the host's build script builds the
//! connector, the test support's builds the hostile test guest).

/// Builds `args` (a `cargo build` line without target flags) in `dir` for wasm32-wasip2, in `target_dir`, and
/// returns the path of `<profile>/<artifact>.wasm`.
pub fn build_wasm_component(
    dir: &std::path::Path,
    args: &[&str],
    profile: &str,
    target_dir: &std::path::Path,
    artifact: &str,
) -> std::path::PathBuf {
    ensure_wasm_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build
        .current_dir(dir)
        .arg("build")
        .args(args)
        .args(["--target", "wasm32-wasip2", "--profile", profile, "--target-dir"])
        .arg(target_dir);
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
    let status = build.status().expect("running cargo to build a component");
    assert!(status.success(), "building the component in {} failed", dir.display());
    let wasm = target_dir.join("wasm32-wasip2").join(profile).join(format!("{artifact}.wasm"));
    assert!(wasm.exists(), "the component was not produced at {}", wasm.display());
    wasm
}

/// A fresh machine has no wasm32-wasip2 standard library: add it through rustup, once.
pub fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot =
        std::process::Command::new(rustc).args(["--print", "sysroot"]).output().expect("running rustc --print sysroot");
    let sysroot = std::path::PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib/wasm32-wasip2").exists() {
        return;
    }
    println!("cargo:warning=installing the wasm32-wasip2 target with rustup (needed to build the component)");
    let status = std::process::Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed; run it by hand"
    );
}

/// `<target>/<name>`, beside the outer build's profile folders (`OUT_DIR` is `<target>/<profile>/build/<pkg>/out`).
pub fn nested_target_dir(name: &str) -> std::path::PathBuf {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    out_dir.ancestors().nth(4).map_or_else(|| out_dir.join(name), |t| t.join(name))
}
