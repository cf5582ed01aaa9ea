//! `messenger-harness filters`: an account's stored inbound filters, shown or changed.

use super::{Cli, Failure, harness, to_json};
use clap::Args;

#[derive(Args)]
pub(super) struct FiltersArgs {
    /// The Instagram account id.
    #[arg(long)]
    account: String,
    /// Store whether story mentions are skipped.
    #[arg(long, value_name = "BOOL")]
    skip_story_mentions: Option<bool>,
    /// Store whether shared posts and reels are skipped.
    #[arg(long, value_name = "BOOL")]
    skip_shares: Option<bool>,
}

pub(super) fn run(cli: &Cli, args: &FiltersArgs) -> Result<String, Failure> {
    let harness = harness(cli)?;
    let mut filters = harness.filters(&args.account)?;
    if args.skip_story_mentions.is_some() || args.skip_shares.is_some() {
        filters.skip_story_mentions = args.skip_story_mentions.unwrap_or(filters.skip_story_mentions);
        filters.skip_shares = args.skip_shares.unwrap_or(filters.skip_shares);
        harness.set_filters(&args.account, filters)?;
    }
    Ok(to_json(&serde_json::json!({
        "account-id": args.account,
        "skip-story-mentions": filters.skip_story_mentions,
        "skip-shares": filters.skip_shares,
    })))
}
