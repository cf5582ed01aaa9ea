//! `messenger-harness outbound`: a REQUEST in, its plan (or every problem) out; with `--send`, sent with retries.

use super::{Cli, Failure, harness, read_capped, to_json};
use crate::harness::{CallError, RetryPolicy};
use clap::Args;
use messenger_core::outbound::{Invalid, PlanReport, parse_request};

#[derive(Args)]
pub(super) struct OutboundArgs {
    /// Send the plan through the Graph API (the account's token comes from storage or MESSENGER_ACCESS_TOKEN).
    #[arg(long)]
    send: bool,
    /// Attempts per message when Graph answers `later`, the first included.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10))]
    max_attempts: u32,
    /// The reply (DESIGN.md's REQUEST JSON): a file path, or `-` for stdin.
    request: String,
}

pub(super) fn run(cli: &Cli, args: &OutboundArgs) -> Result<String, Failure> {
    let request = read_capped(&args.request, 1 << 20)?;
    let reply = parse_request(&request, crate::clock::now_ms()).map_err(Failure::refused)?;
    let harness = harness(cli)?;
    let plan = match harness.validate_reply(&reply) {
        Ok(plan) => plan,
        Err(CallError::Invalid(errors)) => return Err(Failure::printed(to_json(&Invalid::new(&errors)))),
        Err(other) => return Err(other.into()),
    };
    let mut output = serde_json::to_value(PlanReport::new(&plan)).expect("a plan serializes");
    if !args.send {
        return Ok(to_json(&output));
    }
    let policy = RetryPolicy { max_attempts: args.max_attempts, ..RetryPolicy::default() };
    let outcomes = harness.send_with_retries(&plan, &policy)?;
    let all_sent = outcomes.iter().all(|o| o.status.succeeded());
    output["deliveries"] = serde_json::to_value(&outcomes).expect("outcomes serialize");
    output["sent"] = all_sent.into();
    if all_sent { Ok(to_json(&output)) } else { Err(Failure::printed(to_json(&output))) }
}
