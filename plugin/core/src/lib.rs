//! The Instagram messaging connector's logic, in plain Rust. It knows nothing of WIT: the component's adapter and
//! native tests and benchmarks drive it through the `ports` traits.

pub mod accounts;
mod attachments;
mod breaks;
pub mod comments;
pub mod error;
pub mod events;
pub mod expiry;
pub mod graph;
pub mod handshake;
pub mod hex;
pub mod history;
pub mod inbound;
mod items;
pub mod keys;
pub mod messenger_profile;
mod notice;
pub mod outbound;
pub mod ports;
pub mod probe;
pub mod profile;
mod read_ahead;
pub mod settings;
pub mod signature;
pub mod signed_request;
pub mod time;
mod webhook;
pub mod wire;

pub use error::{ConnectorError, codes};
