//! Per-account settings kept in storage.

use crate::keys;
use crate::ports::{Storage, StorageError};
use serde::{Deserialize, Serialize};

/// Which items open no conversation for an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub skip_story_mentions: bool,
    #[serde(default)]
    pub skip_shares: bool,
    /// Off by default: comments arrive unless the account turns them off.
    #[serde(default)]
    pub skip_comments: bool,
}

/// The account's stored filters; all off when never set (or unreadable).
pub fn filters(storage: &impl Storage, account_id: &str) -> Result<Filters, StorageError> {
    let stored = storage.get(&keys::filters(account_id))?;
    Ok(stored.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default())
}

pub fn set_filters(storage: &impl Storage, account_id: &str, filters: Filters) -> Result<(), StorageError> {
    storage.set(&keys::filters(account_id), &serde_json::to_vec(&filters).expect("filters always serialize"))
}
