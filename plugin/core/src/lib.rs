//! The Instagram messaging connector's logic, in plain Rust. It knows nothing of WIT: the component's adapter and
//! native tests and benchmarks drive it through the `ports` traits.

mod attachments;
pub mod error;
pub mod events;
pub mod graph;
pub mod hex;
pub mod inbound;
mod items;
pub mod keys;
pub mod outbound;
pub mod ports;
pub mod profile;
pub mod settings;
pub mod signature;
pub mod time;
mod webhook;

pub use error::{ConnectorError, codes};
