//! Host bindings generated from `wit/`.

wasmtime::component::bindgen!({
    world: "messenger-connector",
    path: "../wit",
    imports: { default: trappable },
    additional_derives: [PartialEq],
});

pub use exports::helpdesk::messenger_connector::{expiry, inbound, outbound};
pub use helpdesk::messenger_connector::{http, storage, types};
