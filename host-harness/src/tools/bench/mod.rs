//! `bench`: every figure is a median over rounds (after a warm-up), with the spread, and every comparison is taken
//! in the same run, so a noisy machine cannot fool a ratio.

mod feed;
pub mod goals;
mod payload;
mod reuse;
mod serve;
mod stats;

pub use payload::{SECRET, payload};
pub use reuse::ReusedInstance;

use crate::egress::{EgressPolicy, HttpClient};
use crate::harness::{Harness, HarnessConfig};
use crate::runtime::bindings::{inbound as wit_inbound, outbound as wit_outbound};
use crate::runtime::limits::Limits;
use crate::runtime::{Runtime, State};
use crate::store::{Database, Namespace, Writes};
use anyhow::Result;
use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_core::ports::NoNetwork;
use messenger_core::wire::Mirror;
use payload::split_text;
use serde_json::{Map, Value, json};
use stats::{Stat, measure, measure_pair, measure_part, round3};
use std::time::{Duration, Instant};

/// Runs the benchmark; JSON keys as DESIGN.md lists them, plus `*_spread` pairs.
/// `postgres`: a URL for the serve figures on PostgreSQL (with `with_serve`).
pub fn run(quick: bool, with_serve: bool, postgres: Option<&str>) -> Result<Map<String, Value>> {
    let (rounds, iters) = if quick { (5, 200) } else { (9, 1000) };
    let wasm = crate::PLUGIN_WASM;
    let mut out = Map::new();
    let put = |out: &mut Map<String, Value>, key: &str, stat: Stat| {
        out.insert(key.into(), json!(round3(stat.median)));
        out.insert(format!("{key}_spread"), json!([round3(stat.min), round3(stat.max)]));
    };
    out.insert("component_bytes".into(), json!(wasm.len()));
    out.insert("component_bytes_budget".into(), json!(goals::COMPONENT_BYTES_BUDGET));
    goals::check_size(wasm.len(), goals::COMPONENT_BYTES_BUDGET)?;

    let limits = Limits { call_deadline: Duration::from_secs(3600), ..Limits::default() };
    let pooled = Runtime::new(wasm, limits, None)?;
    let unpooled = Runtime::with_allocation(wasm, limits, None, false)?;
    let engine = pooled.engine().clone();
    put(
        &mut out,
        "compile_ms",
        measure(if quick { 3 } else { 5 }, 1, 1e3, |_| {
            wasmtime::component::Component::new(&engine, wasm).expect("the component compiles");
        }),
    );
    let compiled = engine.precompile_component(wasm).map_err(anyhow::Error::from)?;
    put(
        &mut out,
        "load_precompiled_ms",
        measure(rounds, 20, 1e3, |_| {
            // SAFETY: produced just above by this engine.
            unsafe { wasmtime::component::Component::deserialize(&engine, &compiled) }.expect("the compilation loads");
        }),
    );

    let database = Database::in_memory()?;
    let namespace = Namespace::new("instagram", "bench")?;
    let http = HttpClient::new(EgressPolicy::default());
    // The host state of one call, on a fresh session: what every instance below starts from.
    let call_state = || State::new(database.begin(namespace.clone()).expect("a session"), http.clone(), &limits);
    for (key, runtime) in [("instantiate_pooled_us", &pooled), ("instantiate_unpooled_us", &unpooled)] {
        let stat = measure_part(rounds, iters, 1e6, |_| {
            let state = call_state();
            let started = Instant::now();
            let instance = runtime.instantiate(state).expect("instantiates");
            let spent = started.elapsed();
            drop(instance);
            spent
        });
        put(&mut out, key, stat);
    }
    // What a translation adds to that: the inbound interface's functions found and type-checked in the new instance
    // (the other interfaces are not: `runtime::Exports`).
    let stat = measure_part(rounds, iters, 1e6, |_| {
        let (mut store, exports) = pooled.instantiate(call_state()).expect("instantiates");
        let started = Instant::now();
        exports.inbound(&mut store).expect("the inbound exports type-check");
        started.elapsed()
    });
    put(&mut out, "inbound_exports_us", stat);
    // The rest of a fresh instance's price: its teardown (the pool resets the slot's resident pages) and the per-call
    // host state (WASI context, limiter, clock) built before it.
    let stat = measure_part(rounds, iters, 1e6, |_| {
        let instance = pooled.instantiate(call_state()).expect("instantiates");
        let started = Instant::now();
        drop(instance);
        started.elapsed()
    });
    put(&mut out, "instance_drop_pooled_us", stat);
    let stat = measure_part(rounds, iters, 1e6, |_| {
        let session = database.begin(namespace.clone()).expect("a session");
        let started = Instant::now();
        let state = State::new(session, http.clone(), &limits);
        let spent = started.elapsed();
        drop(state);
        spent
    });
    put(&mut out, "call_state_us", stat);

    // Native against the component, on the same payloads, each call doing the same fresh work (new ids).
    let options = TranslateOptions { app_secret: SECRET.into(), filters: None };
    let wire_options: wit_inbound::TranslateOptions = options.clone().mirror();
    let (mut store, exports) = pooled.instantiate(call_state())?;
    // A warm instance: its interfaces are looked up once, as a kept instance would keep them.
    let (inbound, outbound) = (exports.inbound(&mut store)?, exports.outbound(&mut store)?);
    // The native core runs on a session of the same SQLite store the component's calls use.
    // (A database of its own: the in-memory one has a single connection, held by the component's session.)
    let native_database = Database::in_memory()?;
    let native_storage = native_database.begin(Namespace::new("instagram", "bench-native")?)?;
    let mut ratios = Vec::new();
    for kind in ["text", "batch", "korean"] {
        let total = (rounds + 1) * iters + iters;
        let deliveries: Vec<_> = (0..total)
            .map(|n| {
                let (headers, body) = payload(kind, n);
                Delivery { headers, body, received_at: 1_794_477_600_000 }
            })
            .collect();
        let native = measure(rounds, iters, 1e6, |i| {
            messenger_core::inbound::translate(&deliveries[i], &options, &native_storage, &NoNetwork)
                .expect("translates");
        });
        let payloads: Vec<_> = (0..total).map(|n| payload(kind, n + total)).collect();
        let component = measure(rounds, iters, 1e6, |i| {
            let (headers, body) = payloads[i].clone();
            let delivery = wit_inbound::Delivery { headers, body, received_at: 1_794_477_600_000 };
            store.data_mut().restart(&limits);
            inbound.call_translate(&mut store, &delivery, &wire_options).expect("no trap").expect("translates");
        });
        put(&mut out, &format!("translate_{kind}_native_us"), native);
        put(&mut out, &format!("translate_{kind}_wasm_us"), component);
        ratios.push(component.median / native.median);
        if kind == "text" {
            put(&mut out, "translate_native_us", native);
            put(&mut out, "translate_wasm_us", component);
        }
    }
    out.insert("wasm_native_ratio".into(), json!(round3(ratios[0])));
    out.insert("wasm_native_ratio_batch".into(), json!(round3(ratios[1])));
    out.insert("wasm_native_ratio_korean".into(), json!(round3(ratios[2])));
    out.insert(
        "wasm_native_ratio_by_payload".into(),
        json!({"text": round3(ratios[0]), "batch": round3(ratios[1]), "korean": round3(ratios[2])}),
    );

    // Validation through the component: a long text to split, and a carousel of 10 cards at their limits.
    for (key, reply) in
        [("outbound_split_us", payload::reply(Some(split_text()), 0)), ("validate_card10_us", payload::reply(None, 10))]
    {
        let reply: wit_outbound::Reply = reply.mirror();
        let stat = measure(rounds, iters / 4, 1e6, |_| {
            store.data_mut().restart(&limits);
            outbound.call_validate(&mut store, &reply).expect("no trap").expect("valid");
        });
        put(&mut out, key, stat);
    }
    drop((store, exports));

    // A translation alone on a fresh instance (its instantiation and teardown not counted), beside the warm
    // instance's `translate_text_wasm_us`: what the guest's first call in an instance costs above a later one.
    let firsts: Vec<_> = (0..(rounds + 2) * iters).map(|n| payload("text", n + 1_000_000)).collect();
    let stat = measure_part(rounds, iters, 1e6, |i| {
        let state = State::new(database.begin_call(namespace.clone(), Writes::Buffered), http.clone(), &limits);
        let (mut store, exports) = pooled.instantiate(state).expect("instantiates");
        let inbound = exports.inbound(&mut store).expect("the inbound exports type-check");
        let (headers, body) = firsts[i].clone();
        let delivery = wit_inbound::Delivery { headers, body, received_at: 1_794_477_600_000 };
        let started = Instant::now();
        inbound.call_translate(&mut store, &delivery, &wire_options).expect("no trap").expect("translates");
        let spent = started.elapsed();
        drop((store, exports));
        spent
    });
    put(&mut out, "translate_text_first_call_us", stat);

    // End to end per delivery: a fresh pooled instance, the translation, the storage transaction.
    let mut config = HarnessConfig::new(Database::in_memory()?);
    config.cache_dir = None;
    let harness = Harness::new(config)?;
    let deliver = |kind: &str| {
        let payloads: Vec<_> = (0..(rounds + 2) * iters).map(|n| payload(kind, n)).collect();
        measure(rounds, iters, 1e6, |i| {
            let (headers, body) = payloads[i].clone();
            let delivery = Delivery { headers, body, received_at: 1_794_477_600_000 };
            harness.translate(&delivery, &options).expect("translates");
        })
    };
    // The same deliveries on one instance kept across them (its own runtime, store and in-memory database, the
    // harness's default limits), rounds alternating with the fresh path's: the floor a reset instance could reach,
    // and what the fresh instance costs above it (BENCHMARKS.md, issue 21).
    let mut reused = ReusedInstance::new(Database::in_memory()?, "default")?;
    let texts: Vec<_> = (0..(rounds + 2) * iters).map(|n| payload("text", n)).collect();
    let text = |i: usize| {
        let (headers, body) = texts[i].clone();
        Delivery { headers, body, received_at: 1_794_477_600_000 }
    };
    let (delivery, kept) = measure_pair(
        rounds,
        iters,
        1e6,
        |i| drop(harness.translate(&text(i), &options).expect("translates")),
        |i| drop(reused.translate(&text(i), &options).expect("translates")),
    );
    put(&mut out, "delivery_us", delivery);
    put(&mut out, "delivery_reused_instance_us", kept);
    out.insert("delivery_fresh_minus_reused_us".into(), json!(round3(delivery.median - kept.median)));
    out.insert("deliveries_per_s_per_core".into(), json!((1e6 / delivery.median).round()));
    // A comment beside a DM: the same path, with a comment record instead of a message mark and no profile lookup.
    put(&mut out, "comment_delivery_us", deliver("comment"));

    let (mut store, exports) = pooled.instantiate(State::new(database.begin(namespace)?, http, &limits))?;
    let (headers, body) = payload("batch", usize::MAX / 2);
    exports
        .inbound(&mut store)?
        .call_translate(&mut store, &wit_inbound::Delivery { headers, body, received_at: 0 }, &wire_options)?
        .ok();
    out.insert("instance_memory_bytes".into(), json!(store.data().peak_memory_bytes()));
    // A count: how often that delivery grew the guest's memory past its initial size (an `mprotect` each, and another
    // to shrink the slot back at the next instantiation).
    out.insert("instance_memory_grows_batch".into(), json!(store.data().memory_grows()));
    // A count, not a time: how often the 10-item delivery above crossed into `storage`.
    out.insert("storage_crossings_batch".into(), json!(store.data().storage_crossings()));

    if with_serve {
        serve::run(quick, postgres, &mut out)?;
    }
    let judged = goals::judge(&out);
    out.insert("goals".into(), judged);
    Ok(out)
}

/// A table for people: figure, median, spread, and the goal where there is one.
pub fn table(figures: &Map<String, Value>) -> String {
    let header = format!("{:<34} {:>14}  {:<26} {}", "figure", "median", "spread (min..max)", "goal");
    let mut lines = vec![header];
    for (key, value) in figures {
        if key.ends_with("_spread") || value.is_object() {
            continue;
        }
        let spread = figures
            .get(&format!("{key}_spread"))
            .and_then(Value::as_array)
            .map_or(String::new(), |s| format!("{}..{}", s[0], s[1]));
        let goal = value.as_f64().and_then(|v| goals::goal(key, v));
        let goal = goal.map_or(String::new(), |(goal, met)| format!("{goal}: {}", if met { "met" } else { "NOT MET" }));
        lines.push(format!("{key:<34} {:>14}  {spread:<26} {goal}", value.to_string()).trim_end().to_owned());
    }
    lines.join("\n")
}
