//! What the console keeps between requests, in the store (so any node of a deployment can answer the next step):
//! the link attempts' states (single use), the accounts a login reached until they are selected, and the answers
//! to data deletion requests. Kept in a namespace of the console's own; expired records are swept as new ones are
//! written. Keys begin with the record's expiry (13 digits), so the oldest come first.

use crate::clock::now_ms;
use crate::store::{Database, Namespace};
use anyhow::Result;
use messenger_core::ports::Storage;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The records of one kind (`state`, `pick`, `deletion`).
pub(super) struct Records {
    database: Database,
    namespace: Namespace,
    kind: &'static str,
}

/// What marks a state as used: consuming it swaps its record for this, once.
const USED: &[u8] = b"used";

impl Records {
    /// The records of `kind` in `database`.
    pub fn new(database: &Database, kind: &'static str) -> Self {
        let namespace = Namespace::new("console", "records").expect("a valid namespace");
        Self { database: database.clone(), namespace, kind }
    }

    /// Stores `record` until `expires_at` under a fresh random reference, which it returns (`<expiry>-<random>`),
    /// and deletes up to 100 expired records of the kind.
    pub fn put(&self, expires_at: u64, record: &impl Serialize) -> Result<String> {
        let reference = format!("{expires_at:013}-{}", super::signing::random_token());
        let value = serde_json::to_vec(record)?;
        let (kind, now) = (self.kind, now_ms());
        self.database.transaction(&self.namespace, |session| {
            let (stale, _) = session.list_keys(&format!("{kind}/"), None, 100).map_err(storage)?;
            for key in stale.iter().filter(|key| expiry_of(key, kind).is_some_and(|at| at <= now)) {
                session.delete(key).map_err(storage)?;
            }
            session.set(&self.key(&reference), &value).map_err(storage)
        })?;
        Ok(reference)
    }

    /// The record under `reference`, if it is one of this kind and has not expired.
    pub fn get<T: DeserializeOwned>(&self, reference: &str) -> Result<Option<T>> {
        if !live(reference) {
            return Ok(None);
        }
        let stored =
            self.database.read(&self.namespace, |session| session.get(&self.key(reference)).map_err(storage))?;
        Ok(stored.filter(|v| v != USED).and_then(|v| serde_json::from_slice(&v).ok()))
    }

    /// The record under `reference`, marked used in the same step: a second call finds nothing, on any node (the
    /// store swaps the value only if it is still the one read).
    pub fn take<T: DeserializeOwned>(&self, reference: &str) -> Result<Option<T>> {
        if !live(reference) {
            return Ok(None);
        }
        let key = self.key(reference);
        self.database.transaction(&self.namespace, |session| {
            let Some(stored) = session.get(&key).map_err(storage)?.filter(|v| v != USED) else { return Ok(None) };
            if !session.compare_and_swap(&key, Some(&stored), USED).map_err(storage)? {
                return Ok(None);
            }
            Ok(serde_json::from_slice(&stored).ok())
        })
    }

    /// Deletes the record under `reference`.
    pub fn remove(&self, reference: &str) -> Result<()> {
        if !well_formed(reference) {
            return Ok(());
        }
        self.database.transaction(&self.namespace, |session| session.delete(&self.key(reference)).map_err(storage))
    }

    /// The store key of a reference.
    fn key(&self, reference: &str) -> String {
        format!("{}/{reference}", self.kind)
    }
}

/// A reference as `put` makes them: 13 digits, a dash, 32 hex digits.
fn well_formed(reference: &str) -> bool {
    let Some((expiry, random)) = reference.split_once('-') else { return false };
    expiry.len() == 13
        && expiry.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 32
        && random.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A well-formed reference that has not expired.
fn live(reference: &str) -> bool {
    well_formed(reference) && reference[..13].parse::<u64>().is_ok_and(|at| at > now_ms())
}

/// The expiry of a stored key of `kind`.
fn expiry_of(key: &str, kind: &str) -> Option<u64> {
    key.strip_prefix(kind)?.strip_prefix('/')?.get(..13)?.parse().ok()
}

/// A storage failure, for the log.
fn storage(error: messenger_core::ports::StorageError) -> anyhow::Error {
    anyhow::anyhow!("the console's records: {error:?}")
}
