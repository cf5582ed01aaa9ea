//! `messenger-harness serve`: settings from a config file and the environment (never flags, for secrets), loud
//! about what is missing, then serve until Ctrl-C or SIGTERM.

use super::{Cli, Failure, db_spec, env, harness_config, to_json, token_policy};
use crate::harness::Harness;
use crate::server::{self, ApiKey, ServeConfig};
use crate::store::{self, Database};
use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(super) struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A JSON file with `app-secret`, `verify-token`, `access-token`, `owners`, `language`, `api-keys` (the
    /// environment's MESSENGER_* variables win).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// POST committed events here (signed with MESSENGER_FORWARD_SECRET or the config's `forward-secret`).
    #[arg(long, value_name = "URL")]
    forward_url: Option<String>,
    /// Send browsers to this host instead of Meta's login dialogs (tests run a fake dialog on loopback).
    #[arg(long, value_name = "URL")]
    dialog_url: Option<String>,
    /// How often the expiry scheduler evaluates the linked accounts, in seconds [default: the config's
    /// `expiry-interval-seconds`, else 3600].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    expiry_interval: Option<u64>,
}

/// The default store, relative to where serve starts.
pub const DEFAULT_DB: &str = "./data/connector.db";

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ConfigFile {
    app_secret: Option<String>,
    verify_token: Option<String>,
    access_token: Option<String>,
    #[serde(default)]
    owners: Vec<String>,
    language: Option<String>,
    queue_limit: Option<usize>,
    /// The store, when `--db` and MESSENGER_DB_URL name none (a file keeps a PostgreSQL password out of `ps`).
    db_url: Option<String>,
    /// The key tokens are sealed under (64 hex digits), when MESSENGER_TOKEN_KEY is not set.
    token_key: Option<String>,
    #[serde(default)]
    api_keys: Vec<ApiKey>,
    forward_secret: Option<String>,
    /// Where entries for accounts no channel linked go: `default` (the default channel) or `skip`.
    #[serde(default)]
    unrouted: server::Unrouted,
    /// Days to keep each kind of record: `{"raw-bodies": 3, "events": 30, "activity": 8, "dedup-marks": 14}` (any
    /// of them).
    #[serde(default)]
    retention_days: RetentionDays,
    /// The Meta app id (Facebook Login's client id), when MESSENGER_APP_ID is not set.
    app_id: Option<String>,
    /// The Instagram app id (Instagram Login's client id), when MESSENGER_INSTAGRAM_APP_ID is not set.
    instagram_app_id: Option<String>,
    /// Where Meta and browsers reach this server, when MESSENGER_PUBLIC_URL is not set.
    public_url: Option<String>,
    /// A Facebook Login for Business configuration id, sent instead of the scopes.
    login_config_id: Option<String>,
    /// How often the expiry scheduler runs, in seconds (`--expiry-interval` wins).
    expiry_interval_seconds: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RetentionDays {
    raw_bodies: Option<u64>,
    events: Option<u64>,
    activity: Option<u64>,
    dedup_marks: Option<u64>,
}

pub(super) fn run(cli: &Cli, args: &ServeArgs) -> Result<String, Failure> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let file: ConfigFile = match &args.config {
        Some(path) => {
            serde_json::from_slice(&std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
                .with_context(|| format!("{} is not the serve config JSON", path.display()))?
        }
        None => ConfigFile::default(),
    };
    let db = db_spec(cli)?.or(file.db_url.clone()).unwrap_or_else(|| DEFAULT_DB.to_owned());
    if !store::looks_like_postgres(&db)
        && let Some(parent) = Path::new(&db).parent().filter(|p| !p.as_os_str().is_empty())
    {
        store::files::private_dir(parent)?;
    }
    let tokens = token_policy(Some(&db), file.token_key.clone())?;
    if matches!(tokens, store::Tokens::Refused) {
        tracing::warn!(
            "no MESSENGER_TOKEN_KEY: tokens will not be stored in the shared database (set the same key on every node)"
        );
    }
    let database = Database::from_spec(&db, server::store_connections())?.with_tokens(tokens);
    let harness = Harness::new(harness_config(cli, database)?)?;
    if let Some(origin) = harness.graph_override() {
        // Every Graph request, with the access tokens (and the app secret when linking), goes there instead.
        tracing::warn!(graph = %origin, "--graph-url: Graph traffic and its tokens go to this host, not to Meta's");
    }
    serve(harness, args, file)?;
    Ok(to_json(&serde_json::json!({"stopped": true})))
}

fn serve(harness: Harness, args: &ServeArgs, file: ConfigFile) -> Result<()> {
    let console = console_config(args, &file)?;
    let mut config = ServeConfig {
        console,
        addr: args.addr,
        app_secret: env("MESSENGER_APP_SECRET").or(file.app_secret),
        verify_token: env("MESSENGER_VERIFY_TOKEN").or(file.verify_token),
        owners: env("MESSENGER_OWNERS")
            .map(|o| o.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or(file.owners),
        language: file.language,
        unrouted: file.unrouted,
        api_keys: env("MESSENGER_API_KEYS").map(|keys| ApiKey::parse_list(&keys)).unwrap_or(file.api_keys),
        ..ServeConfig::default()
    };
    if let Some(url) = &args.forward_url {
        let secret = env("MESSENGER_FORWARD_SECRET").or(file.forward_secret).context(
            "--forward-url needs a secret to sign with: set MESSENGER_FORWARD_SECRET (or `forward-secret` in the config file)",
        )?;
        config.forward = Some(server::ForwardConfig::new(url.clone(), secret));
    }
    let days = |d: u64| std::time::Duration::from_secs(d * 86_400);
    let kept = &file.retention_days;
    config.retention.raw_bodies = kept.raw_bodies.map_or(config.retention.raw_bodies, days);
    config.retention.events = kept.events.map_or(config.retention.events, days);
    config.retention.activity = kept.activity.map_or(config.retention.activity, days);
    config.retention.dedup_marks = kept.dedup_marks.map_or(config.retention.dedup_marks, days);
    if let Some(limit) = file.queue_limit {
        config.queue_limit = limit.max(1);
    }
    if let Some(seconds) = args.expiry_interval.or(file.expiry_interval_seconds) {
        config.expiry_every = std::time::Duration::from_secs(seconds.max(1));
    }

    if let Some(token) = env("MESSENGER_ACCESS_TOKEN").or(file.access_token) {
        harness
            .database()
            .provision(harness.namespace().clone(), messenger_core::keys::CHANNEL_ACCESS_TOKEN, token.as_bytes())
            .context("storing MESSENGER_ACCESS_TOKEN (a shared database needs MESSENGER_TOKEN_KEY to hold tokens)")?;
    }
    if config.app_secret.is_none() {
        tracing::warn!("MESSENGER_APP_SECRET is not set: every webhook POST will be refused (401) until it is");
    }
    if config.verify_token.is_none() {
        tracing::warn!("MESSENGER_VERIFY_TOKEN is not set: Meta's subscription handshake will be refused (403)");
    }
    if config.api_keys.is_empty() {
        tracing::warn!("no API keys (MESSENGER_API_KEYS): every /api/* call will be refused (401)");
    } else {
        let names: Vec<&str> = config.api_keys.iter().map(|k| k.name.as_str()).collect();
        tracing::info!(keys = ?names, "API keys loaded (by name)");
    }
    if config.owners.is_empty() {
        tracing::warn!("no channel owners (MESSENGER_OWNERS): expiry notices will have nobody to tell");
    }
    adopt_linked_accounts(&harness);
    let (harness_db, node) = (harness.database().describe(), config.node.clone());
    let server = server::spawn(harness, config)?;
    tracing::info!(addr = %server.addr, db = %harness_db, node = %node, "serving POST/GET /webhooks/instagram, /api/*, the console (/), /connect/*, /meta/*, GET /metrics, GET /healthz");
    server.wait_for_signal()
}

/// Linking from a browser: the app ids and public URL from the environment, else the config file; the dialog host
/// from `--dialog-url` (plain http only on loopback, as `--graph-url`).
fn console_config(args: &ServeArgs, file: &ConfigFile) -> Result<server::ConsoleConfig> {
    if let Some(url) = &args.dialog_url {
        crate::egress::override_url("--dialog-url", url)?;
        tracing::warn!(dialog = %url, "--dialog-url: browsers are sent to this host, not to Meta's login dialogs");
    }
    let public_url = env("MESSENGER_PUBLIC_URL").or(file.public_url.clone());
    if let Some(url) = &public_url {
        anyhow::ensure!(
            url.starts_with("https://") || url.starts_with("http://"),
            "MESSENGER_PUBLIC_URL must be an http(s) URL: {url:?}"
        );
    }
    let console = server::ConsoleConfig {
        app_id: env("MESSENGER_APP_ID").or(file.app_id.clone()),
        instagram_app_id: env("MESSENGER_INSTAGRAM_APP_ID").or(file.instagram_app_id.clone()),
        public_url,
        dialog_url: args.dialog_url.clone(),
        login_config_id: env("MESSENGER_LOGIN_CONFIG_ID").or(file.login_config_id.clone()),
        attempt_lifetime: None,
    };
    if console.app_id.is_none() || console.public_url.is_none() {
        tracing::warn!("MESSENGER_APP_ID or MESSENGER_PUBLIC_URL is not set: accounts cannot be linked from a browser");
    }
    Ok(console)
}

/// Routes the default channel's linked accounts to it where no channel holds them: accounts linked before routes
/// existed keep reaching their channel, with `unrouted: skip` too.
fn adopt_linked_accounts(harness: &Harness) {
    let accounts = match harness.list_accounts() {
        Ok(accounts) => accounts.into_iter().map(|a| a.account_id).collect::<Vec<_>>(),
        Err(e) => return tracing::warn!(code = %e.to_error_info().code, "listing the linked accounts at start"),
    };
    match store::channels::adopt(harness.database(), harness.namespace(), &accounts, crate::clock::now_ms()) {
        Ok(taken) => {
            for taken in taken {
                tracing::warn!(account = %taken.account, holder = %taken.channel, "a linked account is routed to another channel");
            }
        }
        Err(e) => tracing::error!("routing the linked accounts at start: {e:#}"),
    }
}
