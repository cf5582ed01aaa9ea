//! A delivery loop to profile (`perf record -g`, `perf stat -e task-clock,page-faults`): a fresh pooled instance,
//! the translation of one signed text delivery, and the storage transaction, as `serve` pays per delivery; or, with
//! `reused`, the same deliveries on one instance kept across them (the floor a reset instance could reach).
//!
//! `cargo build --release -p messenger-harness --example profile_delivery && perf stat -e task-clock,page-faults
//! target/release/examples/profile_delivery 20000 [fresh|reused]`
//!
//! `profile_delivery 2000 compare fresh reused ...` runs rounds of 2000 deliveries on each path in turn, in one
//! process, and prints each path's fastest and median round: on a loaded machine, only such interleaved rounds
//! compare.

use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_harness::Database;
use messenger_harness::tools::bench::{ReusedInstance, payload};
use messenger_harness::{Harness, HarnessConfig};
use std::time::Instant;

type Deliver = Box<dyn FnMut(&Delivery) -> anyhow::Result<()>>;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deliveries: usize = args.first().map_or(Ok(20_000), |n| n.parse())?;
    let options = TranslateOptions { app_secret: "bench-app-secret".into(), filters: None };
    if args.get(1).map(String::as_str) == Some("compare") {
        return compare(deliveries, &args[2..], &options);
    }
    let mut deliver = path(args.get(1).map_or("fresh", String::as_str), &options)?;
    let payloads: Vec<_> = (0..deliveries).map(|n| payload("text", n)).collect();
    let started = Instant::now();
    for (headers, body) in payloads {
        deliver(&Delivery { headers, body, received_at: 1_794_477_600_000 })?;
    }
    println!("{:.2} µs per delivery", started.elapsed().as_secs_f64() * 1e6 / deliveries as f64);
    Ok(())
}

/// A delivery path: `fresh` (the harness), `reused` (one kept instance).
fn path(mode: &str, options: &TranslateOptions) -> anyhow::Result<Deliver> {
    let options = options.clone();
    Ok(match mode {
        "fresh" => {
            let mut config = HarnessConfig::new(Database::in_memory()?);
            config.cache_dir = None;
            let harness = Harness::new(config)?;
            Box::new(move |delivery| {
                harness.translate(delivery, &options).map(drop).map_err(|e| anyhow::anyhow!("{:?}", e.to_error_info()))
            })
        }
        "reused" => {
            let mut instance = ReusedInstance::new(Database::in_memory()?, "default")?;
            Box::new(move |delivery| instance.translate(delivery, &options).map(drop))
        }
        other => anyhow::bail!("{other}: a path is `fresh` or `reused`"),
    })
}

/// Rounds of `deliveries` on each path in turn; each path's fastest and median round.
fn compare(deliveries: usize, modes: &[String], options: &TranslateOptions) -> anyhow::Result<()> {
    const ROUNDS: usize = 9;
    let mut paths = modes.iter().map(|mode| path(mode, options)).collect::<anyhow::Result<Vec<_>>>()?;
    let payloads: Vec<_> = (0..deliveries * (ROUNDS + 1)).map(|n| payload("text", n)).collect();
    let mut rounds = vec![Vec::new(); paths.len()];
    for round in 0..=ROUNDS {
        for (deliver, times) in paths.iter_mut().zip(&mut rounds) {
            let started = Instant::now();
            for (headers, body) in &payloads[round * deliveries..(round + 1) * deliveries] {
                deliver(&Delivery { headers: headers.clone(), body: body.clone(), received_at: 1_794_477_600_000 })?;
            }
            if round > 0 {
                times.push(started.elapsed().as_secs_f64() * 1e6 / deliveries as f64);
            }
        }
    }
    for (mode, mut times) in modes.iter().zip(rounds) {
        times.sort_by(f64::total_cmp);
        println!("{mode:<8} fastest {:7.2}  median {:7.2} µs per delivery", times[0], times[ROUNDS / 2]);
    }
    Ok(())
}
