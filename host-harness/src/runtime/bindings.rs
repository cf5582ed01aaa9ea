//! Host bindings generated from `wit/`, and their one mapping to the core's types (the core's `wit_mappings!`).

wasmtime::component::bindgen!({
    world: "messenger-connector",
    path: "../wit",
    imports: { default: trappable },
    additional_derives: [PartialEq],
});

pub use exports::helpdesk::messenger_connector::{expiry, history, inbound, linking, messenger_profile, outbound};
pub use helpdesk::messenger_connector::{http, storage, types};

messenger_core::wit_mappings!(
    types = crate::runtime::bindings::types,
    http = crate::runtime::bindings::http,
    storage = crate::runtime::bindings::storage,
    inbound = crate::runtime::bindings::inbound,
    outbound = crate::runtime::bindings::outbound,
    expiry = crate::runtime::bindings::expiry,
    messenger_profile = crate::runtime::bindings::messenger_profile,
);
messenger_core::linking_wit_mappings!(linking = crate::runtime::bindings::linking);
messenger_core::history_wit_mappings!(history = crate::runtime::bindings::history);
