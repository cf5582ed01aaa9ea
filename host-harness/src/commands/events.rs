//! `messenger-harness events`: the inbox events `serve` stored, oldest first.

use super::{Cli, Failure, harness, to_json};

pub(super) fn run(cli: &Cli) -> Result<String, Failure> {
    let harness = harness(cli)?;
    Ok(to_json(&crate::store::journal::events(harness.database(), harness.namespace())?))
}
