//! The `messenger-harness` command line: JSON in, JSON out, as DESIGN.md's contract says.

use crate::accounts_cli::{self, AccountsCommand, AccountsFailure};
use crate::bindings::inbound;
use crate::expiry_json;
use crate::harness::{CallError, Harness, HarnessConfig};
use crate::http::EgressPolicy;
use crate::retry::RetryPolicy;
use crate::storage::Database;
use crate::{now_ms, outbound_json};
use clap::{Args, Parser, Subcommand};
use messenger_core::{ConnectorError, inbound::MAX_BODY_BYTES, keys, signature, time};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "messenger-harness",
    version,
    about = "Runs the Instagram messaging connector component in a wasmtime sandbox."
)]
pub struct Cli {
    /// The component to load [default: the one built with this binary].
    #[arg(long, global = true, value_name = "PATH")]
    component: Option<PathBuf>,
    /// The store: a SQLite path, or a `postgres://user@host:port/db` URL for the store several serve nodes
    /// share [default: in memory for one-shot commands; ./data/connector.db for serve].
    #[arg(long, global = true, value_name = "PATH|URL")]
    db: Option<String>,
    /// Send Graph API traffic to this base instead of Meta's hosts (tests point it at loopback).
    #[arg(long, global = true, value_name = "URL")]
    graph_url: Option<String>,
    /// The channel whose storage the call uses.
    #[arg(long, global = true, default_value = "default")]
    channel: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Translates one webhook body into inbox events (a JSON array, in delivery order).
    Inbound(InboundArgs),
    /// Validates a reply into a send plan and, with --send, sends it (with retries) and reports each message.
    Outbound(OutboundArgs),
    /// Evaluates an account link (DESIGN.md's LINK JSON): state, expiry, whom to notify now, the notice.
    Expiry(ExpiryArgs),
    /// The channel's linked accounts: list, link, plan, select, representative, refresh.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Serves Meta's webhook endpoint and the reply API on the embedded SQLite (default ./data/connector.db).
    Serve(ServeArgs),
    /// Prints the inbox events `serve` stored, oldest first, as a JSON array.
    Events,
    /// Measures the component and the host (medians over rounds, with spread); JSON with --json.
    Bench(BenchArgs),
    /// Fuzzes the component: mutated deliveries, random replies and links; fails on any trap or host panic.
    Fuzz(FuzzArgs),
    /// Answers Meta's subscription handshake; the expected token comes from MESSENGER_VERIFY_TOKEN.
    Handshake(HandshakeArgs),
    /// Shows an account's stored inbound filters, or changes them with the flags given.
    Filters(FiltersArgs),
}

#[derive(Args)]
struct OutboundArgs {
    /// Send the plan through the Graph API (the account's token comes from storage or MESSENGER_ACCESS_TOKEN).
    #[arg(long)]
    send: bool,
    /// Attempts per message when Graph answers `later`, the first included.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10))]
    max_attempts: u32,
    /// The reply (DESIGN.md's REQUEST JSON): a file path, or `-` for stdin.
    request: String,
}

#[derive(Args)]
struct ExpiryArgs {
    /// The link: a file path, or `-` for stdin.
    link: String,
}

#[derive(Args)]
struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// A JSON file with `app-secret`, `verify-token`, `access-token`, `owners`, `language` (the environment's
    /// MESSENGER_* variables win).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
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

#[derive(Args)]
struct FuzzArgs {
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

#[derive(Args)]
struct HandshakeArgs {
    /// The verification request's query string (`hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`).
    query: String,
}

#[derive(Args)]
struct FiltersArgs {
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

#[derive(Args)]
struct InboundArgs {
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
    /// The time the delivery was received (RFC 3339) [default: now].
    #[arg(long, value_name = "T")]
    now: Option<String>,
    /// The raw webhook body: a file path, or `-` for stdin.
    body: String,
}

/// A failure the CLI reports with a nonzero exit code: as `{"error":{...}}`, or as a report of its own.
struct Failure {
    error: ConnectorError,
    exit: u8,
    report: Option<String>,
}

impl Failure {
    fn refused(error: ConnectorError) -> Self {
        Self { error, exit: 1, report: None }
    }

    /// A failure whose stdout is already written as the contract says (e.g. `{"ok":false,...}`).
    fn printed(report: String) -> Self {
        Self { error: ConnectorError::new("", ""), exit: 1, report: Some(report) }
    }

    fn input(code: &str, message: impl Into<String>) -> Self {
        Self { error: ConnectorError::new(code, message), exit: 1, report: None }
    }
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Self {
        let exit = match error {
            CallError::Rejected(_) | CallError::Invalid(_) => 1,
            CallError::PluginFault(_) => 3,
            CallError::Host(_) => 4,
        };
        Self { error: error.to_error_info(), exit, report: None }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self { error: ConnectorError::new("host-error", format!("{error:#}")), exit: 4, report: None }
    }
}

/// Parses the process's arguments, runs the command, prints its JSON. Usage errors exit 2 (clap's own message).
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let (output, code) = run_parsed(&cli);
    println!("{output}");
    ExitCode::from(code)
}

/// Runs a command line in process: its stdout JSON and exit code. Usage errors come back as clap's message, exit 2.
pub fn run_args<I, T>(args: I) -> (String, u8)
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run_parsed(&cli),
        Err(usage) => (usage.to_string(), 2),
    }
}

fn run_parsed(cli: &Cli) -> (String, u8) {
    match execute(cli) {
        Ok(json) => (json, 0),
        Err(Failure { report: Some(report), exit, .. }) => (report, exit),
        Err(failure) => (to_json(&serde_json::json!({ "error": failure.error })), failure.exit),
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("outputs always serialize")
}

/// Runs the command; its output as JSON text, in the field order of the contract.
fn execute(cli: &Cli) -> Result<String, Failure> {
    match &cli.command {
        Command::Inbound(args) => inbound_command(cli, args),
        Command::Outbound(args) => outbound_command(cli, args),
        Command::Handshake(args) => handshake_command(cli, args),
        Command::Serve(args) => {
            crate::serve_cli::run(cli_harness_config(cli)?, args.addr, args.config.as_deref(), cli.db.clone())?;
            Ok(to_json(&serde_json::json!({"stopped": true})))
        }
        Command::Events => {
            let harness = harness(cli)?;
            Ok(to_json(&crate::journal::events(harness.database(), harness.namespace())?))
        }
        Command::Bench(args) => {
            let figures = crate::bench::run(args.quick, args.serve, args.postgres.as_deref())?;
            Ok(if args.json { to_json(&figures) } else { crate::bench::table(&figures) })
        }
        Command::Fuzz(args) => {
            let seeds: Vec<Vec<u8>> = std::fs::read_dir(&args.fixtures)
                .map_err(|e| Failure::input("unreadable-input", format!("{}: {e}", args.fixtures.display())))?
                .filter_map(Result::ok)
                .filter(|entry| entry.path().extension().is_some_and(|x| x == "json"))
                .filter_map(|entry| std::fs::read(entry.path()).ok())
                .collect();
            let started = std::time::Instant::now();
            let report = crate::fuzz::run(&harness(cli)?, &seeds, args.cases, args.seed);
            let mut json = serde_json::to_value(&report).expect("a report serializes");
            json["seconds"] = started.elapsed().as_secs_f64().into();
            json["seeds"] = seeds.len().into();
            if report.passed() { Ok(to_json(&json)) } else { Err(Failure::printed(to_json(&json))) }
        }
        Command::Expiry(args) => {
            let link =
                expiry_json::parse_link(&read_capped(&args.link, 1 << 20)?, now_ms()).map_err(Failure::refused)?;
            Ok(to_json(&expiry_json::decision(&harness(cli)?.evaluate_link(&link)?)))
        }
        Command::Accounts(command) => match accounts_cli::run(&harness(cli)?, command, now_ms()) {
            Ok(value) => Ok(to_json(&value)),
            Err(AccountsFailure::Call(error)) => Err(error.into()),
            Err(AccountsFailure::Refused(error)) => Err(Failure::refused(error)),
            Err(AccountsFailure::Report(report)) => Err(Failure::printed(to_json(&report))),
        },
        Command::Filters(args) => filters_command(cli, args),
    }
}

fn harness(cli: &Cli) -> Result<Harness, Failure> {
    let database = match &cli.db {
        Some(spec) => Database::from_spec(spec, 1)?,
        None => Database::in_memory()?,
    };
    let mut config = cli_harness_config(cli)?;
    config.database = database;
    let harness = Harness::new(config)?;
    // A token from the environment serves every account of the channel that has none stored.
    if let Some(token) = std::env::var("MESSENGER_ACCESS_TOKEN").ok().filter(|t| !t.is_empty()) {
        harness.database().provision(harness.namespace().clone(), keys::CHANNEL_ACCESS_TOKEN, token.as_bytes())?;
    }
    Ok(harness)
}

/// The harness settings the common flags give (with an in-memory database, replaced by the caller).
fn cli_harness_config(cli: &Cli) -> Result<HarnessConfig, Failure> {
    let mut config = HarnessConfig::new(Database::in_memory()?);
    config.channel = cli.channel.clone();
    if let Some(path) = &cli.component {
        config.wasm = std::fs::read(path)
            .map_err(|e| Failure::input("unreadable-input", format!("reading {}: {e}", path.display())))?;
    }
    if let Some(url) = &cli.graph_url {
        config.egress = EgressPolicy::default()
            .with_graph_url(url)
            .map_err(|e| Failure::input("invalid-argument", e.to_string()))?;
    }
    Ok(config)
}

fn inbound_command(cli: &Cli, args: &InboundArgs) -> Result<String, Failure> {
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
        None => now_ms(),
    };
    let body = read_capped(&args.body, MAX_BODY_BYTES)?;
    let headers = args.signature.iter().map(|s| (signature::HEADER.to_owned(), s.clone())).collect();
    let delivery = inbound::Delivery { headers, body, received_at };
    let filters = (args.skip_story_mentions || args.skip_shares)
        .then_some(inbound::Filters { skip_story_mentions: args.skip_story_mentions, skip_shares: args.skip_shares });
    let options = inbound::TranslateOptions { app_secret, filters };
    let events = harness(cli)?.translate(&delivery, &options)?;
    Ok(to_json(&events))
}

fn outbound_command(cli: &Cli, args: &OutboundArgs) -> Result<String, Failure> {
    let request = read_capped(&args.request, 1 << 20)?;
    let reply =
        outbound_json::parse_request(&request, now_ms()).map_err(|error| Failure { error, exit: 1, report: None })?;
    let harness = harness(cli)?;
    let plan = match harness.validate_reply(&reply) {
        Ok(plan) => plan,
        Err(CallError::Invalid(errors)) => return Err(Failure::printed(to_json(&outbound_json::invalid(&errors)))),
        Err(other) => return Err(other.into()),
    };
    let mut output = outbound_json::plan(&plan);
    if !args.send {
        return Ok(to_json(&output));
    }
    let policy = RetryPolicy { max_attempts: args.max_attempts, ..RetryPolicy::default() };
    let outcomes = harness.send_with_retries(&plan, &policy)?;
    output["deliveries"] = outbound_json::deliveries(&outcomes);
    let all_sent = outcomes.iter().all(|o| matches!(o.status, crate::bindings::outbound::DeliveryStatus::Sent(_)));
    output["sent"] = all_sent.into();
    if all_sent { Ok(to_json(&output)) } else { Err(Failure::printed(to_json(&output))) }
}

fn handshake_command(cli: &Cli, args: &HandshakeArgs) -> Result<String, Failure> {
    let expected = std::env::var("MESSENGER_VERIFY_TOKEN").ok().filter(|t| !t.is_empty()).ok_or_else(|| {
        Failure::input("missing-verify-token", "set MESSENGER_VERIFY_TOKEN to the verify token configured at Meta")
    })?;
    let challenge = harness(cli)?.verify_subscription(&crate::handshake::from_query(&args.query), &expected)?;
    Ok(to_json(&serde_json::json!({ "challenge": challenge })))
}

fn filters_command(cli: &Cli, args: &FiltersArgs) -> Result<String, Failure> {
    let harness = harness(cli)?;
    let mut filters = harness.filters(&args.account)?;
    if args.skip_story_mentions.is_some() || args.skip_shares.is_some() {
        filters.skip_story_mentions = args.skip_story_mentions.unwrap_or(filters.skip_story_mentions);
        filters.skip_shares = args.skip_shares.unwrap_or(filters.skip_shares);
        harness.set_filters(&args.account, filters)?;
    }
    let json = serde_json::json!({
        "account-id": args.account,
        "skip-story-mentions": filters.skip_story_mentions,
        "skip-shares": filters.skip_shares,
    });
    Ok(to_json(&json))
}

/// Reads a file (or stdin for `-`), refusing it without buffering more than `cap` bytes.
fn read_capped(source: &str, cap: usize) -> Result<Vec<u8>, Failure> {
    let reader: Box<dyn Read> = if source == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(source)
                .map_err(|e| Failure::input("unreadable-input", format!("reading {source}: {e}")))?,
        )
    };
    let mut body = Vec::new();
    reader
        .take(cap as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| Failure::input("unreadable-input", format!("reading {source}: {e}")))?;
    if body.len() > cap {
        return Err(Failure::input(messenger_core::codes::PAYLOAD_TOO_LARGE, format!("the body is over {cap} bytes")));
    }
    Ok(body)
}
