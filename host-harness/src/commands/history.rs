//! `messenger-harness history`: brings in an account's recent conversations (or one customer's, to fill a gap)
//! through the Conversations API, at Meta's rate, and prints the progress; `--status` only prints it.

use super::{Cli, Failure, harness, to_json};
use clap::Args;

#[derive(Args)]
pub(super) struct HistoryArgs {
    /// The Instagram account id.
    #[arg(long)]
    account: String,
    /// Only this customer's conversation (an IGSID), to fill a gap.
    #[arg(long)]
    customer: Option<String>,
    /// Go on from where the last run stopped (a Graph error) instead of starting again.
    #[arg(long, conflicts_with = "customer")]
    resume: bool,
    /// Print the progress only; run nothing.
    #[arg(long, conflicts_with_all = ["customer", "resume"])]
    status: bool,
}

pub(super) fn run(cli: &Cli, args: &HistoryArgs) -> Result<String, Failure> {
    let harness = harness(cli)?;
    if args.status {
        let progress = harness.backfill_progress(&args.account)?;
        return Ok(to_json(&progress));
    }
    if !args.resume {
        harness.start_backfill(&args.account, args.customer.as_deref(), crate::clock::now_ms())?;
    }
    Ok(to_json(&harness.run_backfill(&args.account, 1.0)?))
}
