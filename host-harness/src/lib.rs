//! A wasmtime host for the Instagram messaging connector component: one module per capability (`http`,
//! `storage`, `limits`), the `engine` that compiles and pre-instantiates the component, and the `harness` that
//! runs each call in its own instance and storage transaction.

pub mod accounts_cli;
mod background;
pub mod bench;
mod bench_serve;
pub mod bindings;
pub mod cli;
mod convert;
pub mod engine;
pub mod expiry_json;
pub mod fuzz;
pub mod handshake;
pub mod harness;
pub mod http;
pub mod journal;
pub mod limits;
pub mod outbound_json;
pub mod retry;
pub mod serve;
pub mod serve_cli;
pub mod state;
pub mod storage;

pub use harness::{CallError, Harness, HarnessConfig};

/// The wall clock in Unix milliseconds: the `now` the host passes to the component.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// This process's name among several nodes on one database: host, process id and start time.
pub fn node_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname").map_or_else(|_| "node".into(), |h| h.trim().to_owned());
        format!("{host}-{}-{}", std::process::id(), now_ms())
    })
    .clone()
}

/// Where the build put the component.
pub const PLUGIN_WASM_PATH: &str = env!("MESSENGER_PLUGIN_WASM");
/// The component built with this crate, embedded so the binary stands alone.
pub static PLUGIN_WASM: &[u8] = include_bytes!(env!("MESSENGER_PLUGIN_WASM"));
