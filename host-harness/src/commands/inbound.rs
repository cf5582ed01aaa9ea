//! `messenger-harness inbound`: one webhook body in, its inbox events out, in delivery order.

use super::{Cli, Failure, harness, read_capped};
use clap::Args;
use messenger_core::inbound::{Delivery, MAX_BODY_BYTES, TranslateOptions};
use messenger_core::settings::Filters;
use messenger_core::{signature, time};

#[derive(Args)]
pub(super) struct InboundArgs {
    /// The app secret that signs deliveries [env: MESSENGER_APP_SECRET].
    #[arg(long, env = "MESSENGER_APP_SECRET", hide_env_values = true)]
    app_secret: Option<String>,
    /// The delivery's X-Hub-Signature-256 header value (`sha256=...`).
    #[arg(long, value_name = "HDR")]
    signature: Option<String>,
    /// Skip story mentions for this call, whatever the accounts' stored filters say.
    #[arg(long)]
    skip_story_mentions: bool,
    /// Skip shared posts and reels for this call, whatever the accounts' stored filters say.
    #[arg(long)]
    skip_shares: bool,
    /// Skip comments for this call, whatever the accounts' stored filters say.
    #[arg(long)]
    skip_comments: bool,
    /// The time the delivery was received (RFC 3339) [default: now].
    #[arg(long, value_name = "T")]
    now: Option<String>,
    /// The raw webhook body: a file path, or `-` for stdin.
    body: String,
}

pub(super) fn run(cli: &Cli, args: &InboundArgs) -> Result<String, Failure> {
    let app_secret = args.app_secret.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
        Failure::input(
            "missing-app-secret",
            "deliveries are verified with the app secret: pass --app-secret or set MESSENGER_APP_SECRET",
        )
    })?;
    let received_at = match &args.now {
        Some(text) => {
            time::parse_rfc3339(text).map_err(|e| Failure::input("invalid-argument", format!("--now: {e}")))?
        }
        None => crate::clock::now_ms(),
    };
    let body = read_capped(&args.body, MAX_BODY_BYTES)?;
    let headers = args.signature.iter().map(|s| (signature::HEADER.to_owned(), s.clone())).collect();
    let delivery = Delivery { headers, body, received_at };
    let filters = (args.skip_story_mentions || args.skip_shares || args.skip_comments).then_some(Filters {
        skip_story_mentions: args.skip_story_mentions,
        skip_shares: args.skip_shares,
        skip_comments: args.skip_comments,
    });
    let events = harness(cli)?.translate(&delivery, &TranslateOptions { app_secret, filters })?;
    // Events print in their own field order (the contract's), not sorted as the other commands' output.
    Ok(serde_json::to_string_pretty(&events).expect("events always serialize"))
}
