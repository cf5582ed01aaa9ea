//! `messenger-harness bench`: every figure is a median over rounds (after a warm-up), with the spread, and every
//! comparison is taken in the same run, so a noisy machine cannot fool a ratio.

use crate::bindings::inbound::{Delivery, TranslateOptions};
use crate::bindings::outbound::{Author, Reply};
use crate::engine::Runtime;
use crate::harness::{Harness, HarnessConfig};
use crate::http::{EgressPolicy, HttpClient};
use crate::limits::Limits;
use crate::state::State;
use crate::storage::{Database, Namespace};
use anyhow::Result;
use messenger_core::ports::NoNetwork;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

const SECRET: &str = "bench-app-secret";

/// A figure: the median of the rounds' per-operation times, and their spread.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Runs `op` for `iters` operations per round, `rounds` times after a warm-up; per-op times in `unit` (1e6 = µs).
fn measure(rounds: usize, iters: usize, unit: f64, mut op: impl FnMut(usize)) -> Stat {
    measure_part(rounds, iters, unit, |i| {
        let started = Instant::now();
        op(i);
        started.elapsed()
    })
}

/// As `measure`, where each operation returns the part of it that counts.
fn measure_part(rounds: usize, iters: usize, unit: f64, mut op: impl FnMut(usize) -> Duration) -> Stat {
    let mut next = 0;
    for _ in 0..iters.div_ceil(2) {
        op(next);
        next += 1;
    }
    let mut per_op: Vec<f64> = (0..rounds)
        .map(|_| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                spent += op(next);
                next += 1;
            }
            spent.as_secs_f64() * unit / iters as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    Stat { median: per_op[per_op.len() / 2], min: per_op[0], max: per_op[per_op.len() - 1] }
}

/// A signed delivery of one kind, with message ids unique to `n` so every translation does the same fresh work.
pub fn payload(kind: &str, n: usize) -> (Vec<(String, String)>, Vec<u8>) {
    let item = |i: usize, text: &str| {
        json!({"sender": {"id": "1098765432100001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_794_474_843_512u64 + i as u64,
            "message": {"mid": format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE-bench-{n}-{i}-ZDZD"), "text": text}})
    };
    let items: Vec<Value> = match kind {
        "batch" => (0..10).map(|i| item(i, "Do you ship to Busan? 부산도 배송되나요? 🙏")).collect(),
        "korean" => vec![item(0, &"주문한 코트 언제 배송되나요? 🙏🏻 ".repeat(24))],
        _ => vec![item(0, "Hi! Is the oversized wool coat still available in beige, size M?")],
    };
    let body = json!({"object": "instagram", "entry": [{"time": 1_794_474_843_903u64, "id": "17841400000000001", "messaging": items}]});
    let body = serde_json::to_vec(&body).expect("a payload serializes");
    (vec![("x-hub-signature-256".into(), messenger_core::signature::sign(SECRET.as_bytes(), &body))], body)
}

fn split_text() -> String {
    "안녕하세요 고객님! 주문하신 코트는 내일 출고됩니다. 🙏🏻 배송 조회는 프로필 링크에서 가능해요. 👨‍👩‍👧‍👦 Thanks for waiting!\n\n".repeat(20)
}

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
    for (key, runtime) in [("instantiate_pooled_us", &pooled), ("instantiate_unpooled_us", &unpooled)] {
        let stat = measure_part(rounds, iters, 1e6, |_| {
            let state = State::new(database.begin(namespace.clone()).expect("a session"), http.clone(), &limits);
            let started = Instant::now();
            let instance = runtime.instantiate(state).expect("instantiates");
            let spent = started.elapsed();
            drop(instance);
            spent
        });
        put(&mut out, key, stat);
    }

    // Native against the component, on the same payloads, each call doing the same fresh work (new ids).
    let options = TranslateOptions { app_secret: SECRET.into(), filters: None };
    let (mut store, instance) =
        pooled.instantiate(State::new(database.begin(namespace.clone())?, http.clone(), &limits))?;
    // The native core runs on a session of the same SQLite store the component's calls use.
    // (A database of its own: the in-memory one has a single connection, held by the component's session.)
    let native_database = Database::in_memory()?;
    let native_storage = native_database.begin(Namespace::new("instagram", "bench-native")?)?;
    let mut ratios = Vec::new();
    for kind in ["text", "batch", "korean"] {
        let total = (rounds + 1) * iters + iters;
        let payloads: Vec<_> = (0..total).map(|n| payload(kind, n)).collect();
        let native = measure(rounds, iters, 1e6, |i| {
            let (headers, body) = &payloads[i];
            let delivery = messenger_core::inbound::Delivery { headers, body, received_at: 1_794_477_600_000 };
            let options = messenger_core::inbound::TranslateOptions { app_secret: SECRET, filters: None };
            messenger_core::inbound::translate(&delivery, &options, &native_storage, &NoNetwork).expect("translates");
        });
        let payloads: Vec<_> = (0..total).map(|n| payload(kind, n + total)).collect();
        let component = measure(rounds, iters, 1e6, |i| {
            let (headers, body) = payloads[i].clone();
            let delivery = Delivery { headers, body, received_at: 1_794_477_600_000 };
            instance
                .helpdesk_messenger_connector_inbound()
                .call_translate(&mut store, &delivery, &options)
                .expect("no trap")
                .expect("translates");
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
    out.insert(
        "wasm_native_ratio_by_payload".into(),
        json!({"text": round3(ratios[0]), "batch": round3(ratios[1]), "korean": round3(ratios[2])}),
    );

    let reply = Reply {
        account_id: "17841400000000001".into(),
        customer_id: "1098765432100001".into(),
        now: 1_794_477_600_000,
        author: Author::Agent,
        last_customer_message_at: 1_794_477_000_000,
        human_agent_tag: true,
        text: Some(split_text()),
        attachments: vec![],
    };
    put(
        &mut out,
        "outbound_split_us",
        measure(rounds, iters / 4, 1e6, |_| {
            instance
                .helpdesk_messenger_connector_outbound()
                .call_validate(&mut store, &reply)
                .expect("no trap")
                .expect("valid");
        }),
    );
    drop((store, instance));

    // End to end per delivery: a fresh pooled instance, the translation, the storage transaction.
    let mut config = HarnessConfig::new(Database::in_memory()?);
    config.cache_dir = None;
    let harness = Harness::new(config)?;
    let payloads: Vec<_> = (0..(rounds + 2) * iters).map(|n| payload("text", n)).collect();
    let delivery = measure(rounds, iters, 1e6, |i| {
        let (headers, body) = payloads[i].clone();
        harness.translate(&Delivery { headers, body, received_at: 1_794_477_600_000 }, &options).expect("translates");
    });
    put(&mut out, "delivery_us", delivery);
    out.insert("deliveries_per_s_per_core".into(), json!((1e6 / delivery.median).round()));

    let (mut store, instance) = pooled.instantiate(State::new(database.begin(namespace)?, http, &limits))?;
    let (headers, body) = payload("batch", usize::MAX / 2);
    instance
        .helpdesk_messenger_connector_inbound()
        .call_translate(&mut store, &Delivery { headers, body, received_at: 0 }, &options)?
        .ok();
    out.insert("instance_memory_bytes".into(), json!(store.data().peak_memory_bytes()));

    if with_serve {
        crate::bench_serve::run(quick, postgres, &mut out)?;
    }
    Ok(out)
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A table for people: figure, median, spread.
pub fn table(figures: &Map<String, Value>) -> String {
    let mut lines = vec![format!("{:<34} {:>14}  {}", "figure", "median", "spread (min..max)")];
    for (key, value) in figures {
        if key.ends_with("_spread") || value.is_object() {
            continue;
        }
        let spread = figures
            .get(&format!("{key}_spread"))
            .and_then(Value::as_array)
            .map_or(String::new(), |s| format!("{}..{}", s[0], s[1]));
        lines.push(format!("{key:<34} {:>14}  {spread}", value.to_string()));
    }
    lines.join("\n")
}
