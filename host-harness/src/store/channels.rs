//! Many channels in one deployment: which channel linked each account (so each webhook entry reaches the channel
//! that linked its account, and no other), which channels exist, and each channel's own settings.
//!
//! A route is claimed in the same transaction as the selection that links the account, and released with the one
//! that drops it. One channel per account: a channel cannot claim an account another channel holds, so one
//! tenant's API key can never divert another tenant's customers.

use super::{Database, Namespace, Session};
use anyhow::Result;
use serde::{Deserialize, Serialize};

/// The settings a channel keeps for itself; what it leaves unset falls back to the deployment's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ChannelSettings {
    /// Who is told of expiring or broken links (opaque ids the helpdesk knows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<String>>,
    /// The language of owner notices (`ko`, `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// At most this many owners per channel, each at most `MAX_OWNER_BYTES`.
pub const MAX_OWNERS: usize = 100;
pub const MAX_OWNER_BYTES: usize = 200;

impl ChannelSettings {
    /// Every problem with these settings, for a 400.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(owners) = &self.owners {
            if owners.len() > MAX_OWNERS {
                problems.push(format!("at most {MAX_OWNERS} owners"));
            }
            if owners
                .iter()
                .any(|o| o.trim().is_empty() || o.len() > MAX_OWNER_BYTES || o.chars().any(char::is_control))
            {
                problems.push(format!("each owner is 1 to {MAX_OWNER_BYTES} bytes of visible text"));
            }
        }
        if let Some(language) = &self.language {
            let valid =
                (2..=35).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !valid {
                problems.push("language is a language tag such as `ko` or `en-US`".into());
            }
        }
        problems
    }
}

/// Why a selection cannot claim an account: another channel linked it.
#[derive(Debug)]
pub struct RouteTaken {
    pub account: String,
    pub channel: String,
}

impl std::fmt::Display for RouteTaken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "account {} is linked by channel {}; unlink it there first", self.account, self.channel)
    }
}

impl std::error::Error for RouteTaken {}

/// The channel `account`'s webhooks go to, if a channel linked it.
pub fn route_of(database: &Database, any: &Namespace, account: &str) -> Result<Option<Namespace>> {
    let stored = database.read(any, |s| s.journal(|tx, _| tx.route_of(account)))?;
    stored.map(|ns| Namespace::parse(&ns)).transpose()
}

/// Claims `accounts` for the session's channel and releases `dropped`, in the session's transaction; fails with
/// `RouteTaken` (rolling all of it back) when another channel holds one of them.
pub fn apply_routes(session: &Session, accounts: &[String], dropped: &[String], at: u64) -> Result<()> {
    session.journal(|tx, ns| {
        for account in dropped {
            tx.release_route(ns, account)?;
        }
        for account in accounts {
            if !tx.claim_route(ns, account, super::sql_time(at))? {
                let holder = tx.route_of(account)?.unwrap_or_default();
                let channel = Namespace::parse(&holder).map(|n| n.channel().to_owned()).unwrap_or(holder);
                return Err(RouteTaken { account: account.clone(), channel }.into());
            }
        }
        Ok(())
    })
}

/// Routes to `namespace` those of `accounts` no channel holds (the accounts a channel linked before routes
/// existed); the ones another channel holds, for the log.
pub fn adopt(database: &Database, namespace: &Namespace, accounts: &[String], at: u64) -> Result<Vec<RouteTaken>> {
    database.transaction(namespace, |s| {
        s.journal(|tx, ns| {
            let mut taken = Vec::new();
            for account in accounts {
                if !tx.claim_route(ns, account, super::sql_time(at))? {
                    let holder = tx.route_of(account)?.unwrap_or_default();
                    taken.push(RouteTaken { account: account.clone(), channel: holder });
                }
            }
            Ok(taken)
        })
    })
}

/// Which of `accounts` another channel than `namespace` holds, with that channel's name.
pub fn taken_elsewhere(database: &Database, namespace: &Namespace, accounts: &[String]) -> Result<Vec<RouteTaken>> {
    database.read(namespace, |s| {
        s.journal(|tx, ns| {
            let mut taken = Vec::new();
            for account in accounts {
                if let Some(holder) = tx.route_of(account)?.filter(|holder| holder != ns) {
                    let channel = Namespace::parse(&holder)?.channel().to_owned();
                    taken.push(RouteTaken { account: account.clone(), channel });
                }
            }
            Ok(taken)
        })
    })
}

/// Every channel the deployment knows (one that linked an account, or has settings), and `default` first.
pub fn known(database: &Database, default: &Namespace) -> Result<Vec<Namespace>> {
    let stored = database.read(default, |s| s.journal(|tx, _| tx.channels()))?;
    let mut channels = vec![default.clone()];
    for ns in stored {
        let ns = Namespace::parse(&ns)?;
        if ns != *default {
            channels.push(ns);
        }
    }
    Ok(channels)
}

/// The channels with a reply due at `now`.
pub fn with_replies_due(database: &Database, any: &Namespace, now: u64) -> Result<Vec<Namespace>> {
    let at = super::sql_time(now);
    let stored = database.read(any, |s| s.journal(|tx, _| tx.channels_due(at)))?;
    stored.iter().map(|ns| Namespace::parse(ns)).collect()
}

/// The channel's own settings (empty when it set none).
pub fn settings(database: &Database, namespace: &Namespace) -> Result<ChannelSettings> {
    let stored = database.read(namespace, |s| s.journal(|tx, ns| tx.channel_settings(ns)))?;
    Ok(stored.map(|json| serde_json::from_str(&json)).transpose()?.unwrap_or_default())
}

/// Replaces the channel's own settings.
pub fn set_settings(database: &Database, namespace: &Namespace, settings: &ChannelSettings) -> Result<()> {
    let json = serde_json::to_string(settings)?;
    database.transaction(namespace, |s| s.journal(|tx, ns| tx.set_channel_settings(ns, &json)))
}
