//! The API keys: each with a name that the logs show (never the key), optionally bound to one channel, and the
//! caller a request is authenticated as. Keys are compared in constant time, as SHA-256 digests so that not even
//! their length leaks. (`api::auth` is the layer that asks.)

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// One API key: its name (for logs and for scoping idempotency keys), the secret, and the one channel it may
/// reach, if it is bound to one.
#[derive(Clone, Deserialize)]
#[serde(from = "KeySpec")]
pub struct ApiKey {
    pub name: String,
    pub key: String,
    pub channel: Option<String>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey").field("name", &self.name).field("channel", &self.channel).finish_non_exhaustive()
    }
}

/// In a config file a key is either the text form (see `ApiKey::parse`) or `{"name","key","channel"?}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum KeySpec {
    Text(String),
    Full { name: String, key: String, channel: Option<String> },
}

impl From<KeySpec> for ApiKey {
    fn from(spec: KeySpec) -> Self {
        match spec {
            KeySpec::Text(text) => ApiKey::parse(&text, "key"),
            KeySpec::Full { name, key, channel } => ApiKey { name, key, channel },
        }
    }
}

impl ApiKey {
    /// `name:key`, `name@channel:key`, or a bare `key` (named `unnamed`).
    pub fn parse(text: &str, unnamed: &str) -> Self {
        let text = text.trim();
        let Some((label, key)) = text.split_once(':') else {
            return ApiKey { name: unnamed.to_owned(), key: text.to_owned(), channel: None };
        };
        let (name, channel) = match label.split_once('@') {
            Some((name, channel)) => (name, Some(channel.to_owned())),
            None => (label, None),
        };
        ApiKey { name: name.to_owned(), key: key.to_owned(), channel }
    }

    /// `MESSENGER_API_KEYS`: comma-separated keys in the text form; bare keys are named `key-1`, `key-2`, ...
    pub fn parse_list(text: &str) -> Vec<ApiKey> {
        let entries = text.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries.enumerate().map(|(i, entry)| ApiKey::parse(entry, &format!("key-{}", i + 1))).collect()
    }

    /// Why this set of keys cannot be used, if it cannot: empty keys, or two keys with one name (idempotency keys
    /// are scoped by the name, so names must tell keys apart).
    pub fn check_all(keys: &[ApiKey]) -> anyhow::Result<()> {
        for (i, key) in keys.iter().enumerate() {
            anyhow::ensure!(
                !key.key.is_empty() && !key.name.is_empty(),
                "API key {:?} has an empty name or key",
                key.name
            );
            anyhow::ensure!(
                keys[..i].iter().all(|other| other.name != key.name),
                "two API keys are named {:?}: names must be unique",
                key.name
            );
        }
        Ok(())
    }
}

/// The caller a request was authenticated as; handlers take it as an extension.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: Arc<str>,
    /// The only channel this caller may reach, if its key is bound to one.
    pub channel: Option<Arc<str>>,
}

/// The configured keys as their digests, for constant-time comparison.
pub(super) struct Keys(Vec<([u8; 32], Caller)>);

impl Keys {
    pub fn new(keys: &[ApiKey]) -> Self {
        let digest = |key: &ApiKey| -> [u8; 32] { Sha256::digest(key.key.as_bytes()).into() };
        let caller =
            |key: &ApiKey| Caller { name: key.name.as_str().into(), channel: key.channel.as_deref().map(Into::into) };
        Self(keys.iter().map(|key| (digest(key), caller(key))).collect())
    }

    /// The caller of the key named `name`, while that key is still configured (a console session names its key).
    pub fn named(&self, name: &str) -> Option<Caller> {
        self.0.iter().find(|(_, caller)| &*caller.name == name).map(|(_, caller)| caller.clone())
    }

    /// The caller whose key this is. Every configured key is compared, whichever matches.
    pub fn find(&self, presented: &str) -> Option<Caller> {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (digest, caller) in &self.0 {
            if bool::from(digest.ct_eq(&presented)) {
                found = Some(caller.clone());
            }
        }
        found
    }
}
