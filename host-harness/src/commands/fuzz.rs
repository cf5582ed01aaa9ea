//! `messenger-harness fuzz`: mutated deliveries, random replies and links through the component.

use super::{Cli, Failure, harness, to_json};
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub(super) struct FuzzArgs {
    /// How many cases.
    #[arg(long, default_value_t = 1_000_000)]
    cases: u64,
    /// The generator's seed (a run is reproducible for a seed).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder of webhook bodies to mutate (every *.json in it).
    #[arg(long, default_value = "../shared/fixtures/webhooks")]
    fixtures: PathBuf,
}

pub(super) fn run(cli: &Cli, args: &FuzzArgs) -> Result<String, Failure> {
    let seeds = crate::tools::fuzz::seeds(&args.fixtures)
        .map_err(|e| Failure::input("unreadable-input", format!("{}: {e}", args.fixtures.display())))?;
    let started = std::time::Instant::now();
    let report = crate::tools::fuzz::run(&harness(cli)?, &seeds, args.cases, args.seed);
    let mut json = serde_json::to_value(&report).expect("a report serializes");
    json["seconds"] = started.elapsed().as_secs_f64().into();
    json["seeds"] = seeds.len().into();
    if report.passed() { Ok(to_json(&json)) } else { Err(Failure::printed(to_json(&json))) }
}
