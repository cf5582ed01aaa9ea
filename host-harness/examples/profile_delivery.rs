//! A delivery loop to profile (`perf record -g`, `perf stat -e task-clock,page-faults`): a fresh pooled instance,
//! the translation of one signed text delivery, and the storage transaction, as `serve` pays per delivery.
//!
//! `cargo build --release -p messenger-harness --example profile_delivery && perf stat -e task-clock,page-faults
//! target/release/examples/profile_delivery 20000`

use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_harness::Database;
use messenger_harness::{Harness, HarnessConfig};

fn main() -> anyhow::Result<()> {
    let deliveries: usize = std::env::args().nth(1).map_or(Ok(20_000), |n| n.parse())?;
    let mut config = HarnessConfig::new(Database::in_memory()?);
    config.cache_dir = None;
    let harness = Harness::new(config)?;
    let options = TranslateOptions { app_secret: "bench-app-secret".into(), filters: None };
    let payloads: Vec<_> = (0..deliveries).map(|n| messenger_harness::tools::bench::payload("text", n)).collect();
    let started = std::time::Instant::now();
    for (headers, body) in payloads {
        let delivery = Delivery { headers, body, received_at: 1_794_477_600_000 };
        harness.translate(&delivery, &options).map_err(|e| anyhow::anyhow!("{:?}", e.to_error_info()))?;
    }
    println!("{:.2} µs per delivery", started.elapsed().as_secs_f64() * 1e6 / deliveries as f64);
    Ok(())
}
