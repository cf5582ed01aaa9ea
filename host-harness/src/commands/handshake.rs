//! `messenger-harness handshake`: answers Meta's verification request.

use super::{Cli, Failure, env, harness, to_json};
use clap::Args;

#[derive(Args)]
pub(super) struct HandshakeArgs {
    /// The verification request's query string (`hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`).
    query: String,
}

pub(super) fn run(cli: &Cli, args: &HandshakeArgs) -> Result<String, Failure> {
    let expected = env("MESSENGER_VERIFY_TOKEN").ok_or_else(|| {
        Failure::input("missing-verify-token", "set MESSENGER_VERIFY_TOKEN to the verify token configured at Meta")
    })?;
    let request = messenger_core::handshake::from_query(&args.query);
    let challenge = harness(cli)?.verify_subscription(&request, &expected)?;
    Ok(to_json(&serde_json::json!({ "challenge": challenge })))
}
