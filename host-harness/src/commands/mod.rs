//! The `messenger-harness` command line: JSON in, JSON out, as DESIGN.md's contract says. One file per
//! subcommand; this one holds the common flags, the harness they build, and how failures print.

mod accounts;
mod bench;
mod events;
mod expiry;
mod filters;
mod fuzz;
mod handshake;
mod history;
mod inbound;
mod outbound;
mod profile;
mod serve;

use crate::egress::EgressPolicy;
use crate::harness::{CallError, Harness, HarnessConfig};
use crate::store::{self, Database};
use clap::{Parser, Subcommand};
use messenger_core::{ConnectorError, keys};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "messenger-harness",
    version,
    about = "Runs the Instagram messaging connector component in a wasmtime sandbox."
)]
struct Cli {
    /// The component to load [default: the one built with this binary].
    #[arg(long, global = true, value_name = "PATH")]
    component: Option<PathBuf>,
    /// The store: a SQLite path, or a `postgres://user@host:port/db` URL for the store several serve nodes
    /// share [default: MESSENGER_DB_URL; else in memory for one-shot commands, ./data/connector.db for serve]. A
    /// URL with a password goes in MESSENGER_DB_URL, never here: `ps` shows every argument.
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
    Inbound(inbound::InboundArgs),
    /// Validates a reply into a send plan and, with --send, sends it (with retries) and reports each message.
    Outbound(outbound::OutboundArgs),
    /// Evaluates an account link (DESIGN.md's LINK JSON): state, expiry, whom to notify now, the notice.
    Expiry(expiry::ExpiryArgs),
    /// The channel's linked accounts: list, link, plan, select, representative, refresh.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// Serves Meta's webhook endpoint and the reply API on the embedded SQLite (default ./data/connector.db).
    Serve(serve::ServeArgs),
    /// Prints the inbox events `serve` stored, oldest first, as a JSON array.
    Events,
    /// Measures the component and the host (medians over rounds, with spread); JSON with --json.
    Bench(bench::BenchArgs),
    /// Fuzzes the component: mutated deliveries, random replies and links; fails on any trap or host panic.
    Fuzz(fuzz::FuzzArgs),
    /// Answers Meta's subscription handshake; the expected token comes from MESSENGER_VERIFY_TOKEN.
    Handshake(handshake::HandshakeArgs),
    /// Shows an account's stored inbound filters, or changes them with the flags given.
    Filters(filters::FiltersArgs),
    /// Brings in an account's recent conversations (history on link, or a gap fill) and prints the progress.
    History(history::HistoryArgs),
    /// An account's ice breakers and persistent menu: get, set, delete (Meta's Messenger Profile API).
    #[command(subcommand)]
    Profile(profile::ProfileCommand),
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
        Self::refused(ConnectorError::new(code, message))
    }
}

impl From<CallError> for Failure {
    fn from(error: CallError) -> Self {
        let exit = match error {
            CallError::Rejected(_) | CallError::Invalid(_) => 1,
            CallError::PluginFault(_) => 3,
            CallError::Host(_) | CallError::Conflict(_) => 4,
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

/// Pretty JSON with the object keys sorted, as every command but `inbound` prints it (the contract's bytes).
fn to_json(value: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(value).expect("outputs always serialize");
    serde_json::to_string_pretty(&value).expect("outputs always serialize")
}

/// Runs the command; its output as JSON text.
fn execute(cli: &Cli) -> Result<String, Failure> {
    match &cli.command {
        Command::Inbound(args) => inbound::run(cli, args),
        Command::Outbound(args) => outbound::run(cli, args),
        Command::Expiry(args) => expiry::run(cli, args),
        Command::Accounts(command) => accounts::run(cli, command),
        Command::Serve(args) => serve::run(cli, args),
        Command::Events => events::run(cli),
        Command::Bench(args) => bench::run(args),
        Command::Fuzz(args) => fuzz::run(cli, args),
        Command::Handshake(args) => handshake::run(cli, args),
        Command::Filters(args) => filters::run(cli, args),
        Command::History(args) => history::run(cli, args),
        Command::Profile(command) => profile::run(cli, command),
    }
}

/// The harness the common flags give, on `--db` (in memory without it). A token from the environment serves
/// every account of the channel that has none stored.
fn harness(cli: &Cli) -> Result<Harness, Failure> {
    let spec = db_spec(cli)?;
    let database = match &spec {
        Some(spec) => Database::from_spec(spec, 1)?,
        None => Database::in_memory()?,
    };
    let database = database.with_tokens(token_policy(spec.as_deref(), None)?);
    let harness = Harness::new(harness_config(cli, database)?)?;
    if let Some(token) = env("MESSENGER_ACCESS_TOKEN") {
        harness.database().provision(harness.namespace().clone(), keys::CHANNEL_ACCESS_TOKEN, token.as_bytes())?;
    }
    Ok(harness)
}

/// The store the flags name (`--db`), else the environment's `MESSENGER_DB_URL`. A password on the command line
/// is refused: every user of the machine can read it from `ps`.
fn db_spec(cli: &Cli) -> Result<Option<String>, Failure> {
    match &cli.db {
        Some(spec) if store::has_password(spec) => Err(Failure::input(
            "invalid-argument",
            format!(
                "--db {} carries a password, which `ps` shows to anyone: put the URL in MESSENGER_DB_URL instead",
                store::redact(spec)
            ),
        )),
        Some(spec) => Ok(Some(spec.clone())),
        None => Ok(env("MESSENGER_DB_URL")),
    }
}

/// How tokens are kept at rest. Under MESSENGER_TOKEN_KEY (or the config's `token-key`), 64 hex digits, when
/// set. Without one: on a SQLite file, under a key generated once beside it (`<db>.key`, 0600), so a copy of the
/// database alone (a backup, a dump) reveals no token; on PostgreSQL, tokens are refused, since a shared store needs a
/// key every node holds; in memory (one-shot commands), as given, since nothing is at rest.
fn token_policy(spec: Option<&str>, configured: Option<String>) -> anyhow::Result<store::Tokens> {
    use anyhow::Context;
    use store::{Sealer, Tokens};
    if let Some(hex) = env(store::sealing::KEY_ENV).or(configured) {
        return Ok(Tokens::Sealed(Sealer::from_hex(&hex).context(store::sealing::KEY_ENV)?.into()));
    }
    Ok(match spec {
        None => Tokens::Plain,
        Some(spec) if store::looks_like_postgres(spec) => Tokens::Refused,
        Some(path) => {
            let key_file = PathBuf::from(format!("{path}.key"));
            let (sealer, created) = Sealer::from_key_file(&key_file)?;
            if created {
                tracing::warn!(file = %key_file.display(), "no MESSENGER_TOKEN_KEY: tokens are sealed under a new key in this file; keep it with the database, apart from its backups");
            }
            Tokens::Sealed(sealer.into())
        }
    })
}

/// The harness settings the common flags give, on `database`.
fn harness_config(cli: &Cli, database: Database) -> Result<HarnessConfig, Failure> {
    let mut config = HarnessConfig::new(database);
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

/// An environment variable that is set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Reads a file (or stdin for `-`), refusing it without buffering more than `cap` bytes.
fn read_capped(source: &str, cap: usize) -> Result<Vec<u8>, Failure> {
    let unreadable = |e: std::io::Error| Failure::input("unreadable-input", format!("reading {source}: {e}"));
    let reader: Box<dyn Read> = if source == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(source).map_err(unreadable)?)
    };
    let mut body = Vec::new();
    reader.take(cap as u64 + 1).read_to_end(&mut body).map_err(unreadable)?;
    if body.len() > cap {
        return Err(Failure::input(messenger_core::codes::PAYLOAD_TOO_LARGE, format!("the body is over {cap} bytes")));
    }
    Ok(body)
}
