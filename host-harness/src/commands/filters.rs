//! `messenger-harness filters`: an account's stored inbound filters, shown or changed.

use super::{Cli, Failure, harness, to_json};
use crate::harness::{FilterChange, Harness};
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
    /// Store whether comments are skipped.
    #[arg(long, value_name = "BOOL")]
    skip_comments: Option<bool>,
}

pub(super) fn run(cli: &Cli, args: &FiltersArgs) -> Result<String, Failure> {
    let filters = harness(cli)?.change_filters(
        &args.account,
        FilterChange {
            skip_story_mentions: args.skip_story_mentions,
            skip_shares: args.skip_shares,
            skip_comments: args.skip_comments,
        },
    )?;
    Ok(to_json(&Harness::filters_json(&args.account, filters)))
}
