//! `messenger-harness bench`: the performance figures, as a table or JSON.

use super::{Failure, to_json};
use clap::Args;

#[derive(Args)]
pub(super) struct BenchArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Fewer rounds and iterations: well under two minutes.
    #[arg(long)]
    quick: bool,
    /// Also load `serve` on loopback against a bare handler.
    #[arg(long)]
    serve: bool,
    /// With --serve: also one and two serve nodes on this PostgreSQL (it keeps what the run stores).
    #[arg(long, value_name = "URL", requires = "serve")]
    postgres: Option<String>,
}

pub(super) fn run(args: &BenchArgs) -> Result<String, Failure> {
    let figures = crate::tools::bench::run(args.quick, args.serve, args.postgres.as_deref())?;
    Ok(if args.json { to_json(&figures) } else { crate::tools::bench::table(&figures) })
}
