//! Three link settings of the component's linear memory.
//! - A 256 KiB guest stack instead of Rust's default 1 MiB. The stack sits below the data in linear memory, so a
//!   smaller one puts the data and the heap in the first pages, which the host's pool keeps resident and resets in
//!   place between instances; it is the only part of the 1 MiB that is ever touched (JSON nesting is capped at
//!   32 levels before parsing, and the fuzz tests run mutated payloads through it).
//! - A 16 MiB maximum, declared by the component itself, so every host has the bound (a JS host cannot impose
//!   one from outside; the wasmtime host's limiter caps at the same size).
//! - 384 KiB of initial memory instead of the 5 pages the stack and data need: a delivery's heap then fits without
//!   a `memory.grow`. Each grow cost the host an `mprotect` on the call and another to shrink the pool's slot back at
//!   the next instantiation, with their TLB shootdowns (measured: mprotect calls in one `bench --quick` 10,961 to
//!   4,358). It is also what the host's pool keeps resident (`KEEP_RESIDENT_MEMORY`); the harness's test
//!   `a_delivery_fits_the_initial_memory_the_pool_keeps_resident` fails if a delivery outgrows it.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={}", 256 * 1024);
        println!("cargo:rustc-link-arg-cdylib=--max-memory={}", 16 << 20);
        println!("cargo:rustc-link-arg-cdylib=--initial-memory={}", 384 * 1024);
    }
}
