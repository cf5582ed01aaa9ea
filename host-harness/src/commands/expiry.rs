//! `messenger-harness expiry`: a LINK in, its decision out.

use super::{Cli, Failure, harness, read_capped, to_json};
use clap::Args;

#[derive(Args)]
pub(super) struct ExpiryArgs {
    /// The link: a file path, or `-` for stdin.
    link: String,
}

pub(super) fn run(cli: &Cli, args: &ExpiryArgs) -> Result<String, Failure> {
    let bytes = read_capped(&args.link, 1 << 20)?;
    let link = messenger_core::expiry::parse_link(&bytes, crate::clock::now_ms()).map_err(Failure::refused)?;
    Ok(to_json(&harness(cli)?.evaluate_link(&link)?))
}
