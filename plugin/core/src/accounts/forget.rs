//! What Meta's app callbacks ask of the links: a person removed the app (deauthorize: their links are broken), or
//! asked for their data to be deleted (every account they linked is forgotten). Meta names the person by an id it
//! gave them (kept at linking in `authorized_by`), or by the account's own id.

use super::subscribe::linked_ids;
use super::*;
use crate::ports::all_keys;

/// The Graph error a deauthorization is recorded as: 190/458, "the user has not authorized the application". The
/// expiry policy reads it as a revoked link, and owners are told once.
const APP_REMOVED: (i64, i64) = (190, 458);

/// The accounts (linked in this channel's storage, selected or not) that `person` authorized or is.
pub fn accounts_of(person: &str, storage: &impl Storage) -> Result<Vec<String>, ConnectorError> {
    let mut found = Vec::new();
    for id in linked_ids(storage)? {
        let Some(record) = link_record(storage, &id)? else { continue };
        if id == person || record.authorized_by.iter().any(|by| by == person) {
            found.push(id);
        }
    }
    Ok(found)
}

/// Marks as broken every link `person` authorized (Meta's deauthorize callback) at `now`; the accounts marked.
pub fn deauthorize(person: &str, now: TimestampMs, storage: &impl Storage) -> Result<Vec<String>, ConnectorError> {
    let accounts = accounts_of(person, storage)?;
    let (code, subcode) = APP_REMOVED;
    let record = crate::graph::break_record(code, Some(subcode), now);
    for id in &accounts {
        storage.set(&keys::link_error(id), &record).map_err(ConnectorError::from)?;
    }
    Ok(accounts)
}

/// Forgets every account `person` authorized or is (Meta's data deletion callback): each leaves the channel's
/// selection (and its representative mark), and its link, token, subscription, settings, customers' profiles and
/// send budgets are deleted. The accounts forgotten.
pub fn forget(person: &str, storage: &impl Storage) -> Result<Vec<String>, ConnectorError> {
    let accounts = accounts_of(person, storage)?;
    if accounts.is_empty() {
        return Ok(accounts);
    }
    let remaining: Vec<String> = channel_accounts(storage)?.into_iter().filter(|id| !accounts.contains(id)).collect();
    let write = || -> Result<(), StorageError> {
        storage.set(keys::CHANNEL_ACCOUNTS, &serde_json::to_vec(&remaining).expect("ids serialize"))?;
        let representative = storage.get(keys::CHANNEL_REPRESENTATIVE)?;
        if representative.is_some_and(|r| accounts.iter().any(|id| id.as_bytes() == r.as_slice())) {
            storage.delete(keys::CHANNEL_REPRESENTATIVE)?;
        }
        for id in &accounts {
            for prefix in keys::account_prefixes(id) {
                for key in all_keys(storage, &prefix)? {
                    storage.delete(&key)?;
                }
            }
        }
        Ok(())
    };
    write().map_err(ConnectorError::from)?;
    Ok(accounts)
}
