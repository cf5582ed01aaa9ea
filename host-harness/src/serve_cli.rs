//! `messenger-harness serve`: settings from a config file and the environment (never flags, for secrets), loud
//! about what is missing, then serve until Ctrl-C or SIGTERM.

use crate::harness::{Harness, HarnessConfig};
use crate::serve::{self, ServeConfig};
use crate::storage::{self, Database};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

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
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn run(
    mut harness_config: HarnessConfig,
    addr: SocketAddr,
    config_file: Option<&Path>,
    db: Option<String>,
) -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let file: ConfigFile = match config_file {
        Some(path) => {
            serde_json::from_slice(&std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
                .with_context(|| format!("{} is not the serve config JSON", path.display()))?
        }
        None => ConfigFile::default(),
    };
    let mut config = ServeConfig {
        addr,
        app_secret: env("MESSENGER_APP_SECRET").or(file.app_secret),
        verify_token: env("MESSENGER_VERIFY_TOKEN").or(file.verify_token),
        owners: env("MESSENGER_OWNERS")
            .map(|o| o.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or(file.owners),
        language: file.language,
        ..ServeConfig::default()
    };
    if let Some(limit) = file.queue_limit {
        config.queue_limit = limit.max(1);
    }
    let db = db.unwrap_or_else(|| DEFAULT_DB.to_owned());
    if !storage::is_postgres_url(&db)
        && let Some(parent) = Path::new(&db).parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    harness_config.database = Database::from_spec(&db, serve::store_connections())?;
    let harness = Harness::new(harness_config)?;
    if let Some(token) = env("MESSENGER_ACCESS_TOKEN").or(file.access_token) {
        harness.database().provision(
            harness.namespace().clone(),
            messenger_core::keys::CHANNEL_ACCESS_TOKEN,
            token.as_bytes(),
        )?;
    }
    if config.app_secret.is_none() {
        tracing::warn!("MESSENGER_APP_SECRET is not set: every webhook POST will be refused (401) until it is");
    }
    if config.verify_token.is_none() {
        tracing::warn!("MESSENGER_VERIFY_TOKEN is not set: Meta's subscription handshake will be refused (403)");
    }
    if config.owners.is_empty() {
        tracing::warn!("no channel owners (MESSENGER_OWNERS): expiry notices will have nobody to tell");
    }
    let (harness_db, node) = (harness.database().describe(), config.node.clone());
    let server = serve::spawn(harness, config)?;
    tracing::info!(addr = %server.addr, db = %harness_db, node = %node, "serving POST/GET /webhooks/instagram, POST /api/messages, GET /healthz");
    server.wait_for_signal()
}
