//! A wasmtime host for the Instagram messaging connector component, in layers, each using only those below it:
//!
//! | layer | what |
//! |---|---|
//! | `clock` | the wall clock and this node's name |
//! | `egress`, `store` | the host's authority: the allowlisted HTTP client; SQLite or PostgreSQL behind a key-value transaction and a journal |
//! | `runtime` | wasmtime: engine, compile cache, limits, bindings, per-call state, one module per imported capability |
//! | `harness` | one call = one fresh instance + one storage transaction; core types in and out; sending with retries |
//! | `outbox` | the durable reply queue: submit, claim, send, settle, status |
//! | `server` | `serve`: routes that map results to HTTP, and the background workers |
//! | `tools`, `commands` | the benchmark and the fuzzer; the CLI, one file per subcommand |
//!
//! An embedding helpdesk needs the names exported here; the CLI's internals stay inside.

mod clock;
pub mod commands;
mod egress;
mod harness;
mod outbox;
mod runtime;
mod server;
mod store;
pub mod tools;

pub use clock::{node_name, now_ms};
pub use egress::EgressPolicy;
pub use harness::{AccountOverview, CallError, Harness, HarnessConfig, Outcome, RetryPolicy, Selection};
pub use outbox::{Outbox, QueueFull, QueueLimits, Queued, ReplyStatus, StoredReply, Submitted};
pub use runtime::limits::Limits;
pub use server::{
    ApiKey, ConsoleConfig, ForwardConfig, Retention, ServeConfig, ServerHandle, Unrouted, forward_cursor,
    spawn as serve,
};
pub use store::{Conflict, Database, Namespace, Sealer, Session, Tokens, Writes, activity, feed, journal, retention};

/// Where the build put the component.
pub const PLUGIN_WASM_PATH: &str = env!("MESSENGER_PLUGIN_WASM");
/// The component built with this crate, embedded so the binary stands alone.
pub static PLUGIN_WASM: &[u8] = include_bytes!(env!("MESSENGER_PLUGIN_WASM"));
