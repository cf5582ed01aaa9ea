//! A component call's writes, held in memory until the call ends. Reads go to the store at once (through the
//! overlay of the call's own writes), so no transaction, and on SQLite no write lock, is held while the guest runs
//! or waits on Graph. At commit the log is replayed in one short transaction, in order; each insert-if-absent and
//! compare-and-swap that succeeded during the call is decided again by the database there, and if another writer
//! got in first the whole commit is abandoned as a `Conflict`, which the caller may retry (a fresh call then sees
//! the other writer's result). Plain sets stay last-writer-wins, as they were on PostgreSQL's READ COMMITTED.

use super::KvTransaction;
use anyhow::Result;
use std::collections::BTreeMap;

/// Another writer changed what this call's atomic operation was decided on: nothing of the call was stored.
#[derive(Debug)]
pub struct Conflict(pub String);

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "another writer got there first ({}); nothing was stored, try again", self.0)
    }
}

impl std::error::Error for Conflict {}

/// One write, as the call made it, with what it expected.
enum Op {
    Set(String, Vec<u8>),
    Delete(String),
    /// An insert-if-absent that found the key absent.
    Inserted(String, Vec<u8>),
    /// A compare-and-swap that found `expected`.
    Swapped(String, Vec<u8>, Vec<u8>),
}

/// The call's writes: an overlay for its own reads, and the log to replay.
#[derive(Default)]
pub(super) struct Buffer {
    overlay: BTreeMap<String, Option<Vec<u8>>>,
    log: Vec<Op>,
}

impl Buffer {
    /// What the call's own writes say of `key`: `Some(None)` when it deleted it, `None` when it did not touch it.
    pub fn own(&self, key: &str) -> Option<Option<Vec<u8>>> {
        self.overlay.get(key).cloned()
    }

    pub fn set(&mut self, key: &str, value: &[u8]) {
        self.overlay.insert(key.to_owned(), Some(value.to_vec()));
        self.log.push(Op::Set(key.to_owned(), value.to_vec()));
    }

    pub fn delete(&mut self, key: &str) {
        self.overlay.insert(key.to_owned(), None);
        self.log.push(Op::Delete(key.to_owned()));
    }

    pub fn inserted(&mut self, key: &str, value: &[u8]) {
        self.overlay.insert(key.to_owned(), Some(value.to_vec()));
        self.log.push(Op::Inserted(key.to_owned(), value.to_vec()));
    }

    pub fn swapped(&mut self, key: &str, expected: &[u8], new: &[u8]) {
        self.overlay.insert(key.to_owned(), Some(new.to_vec()));
        self.log.push(Op::Swapped(key.to_owned(), expected.to_vec(), new.to_vec()));
    }

    /// Merges the store's page of keys with the call's own writes: `stored` was read with room for every key the
    /// call deleted, so a full page of `limit` survives.
    pub fn merge_keys(&self, mut stored: Vec<String>, prefix: &str, after: &str, limit: usize) -> Vec<String> {
        let own = self.overlay.iter().filter(|(key, _)| key.starts_with(prefix) && key.as_str() > after);
        for (key, value) in own {
            match value {
                Some(_) => stored.push(key.clone()),
                None => stored.retain(|k| k != key),
            }
        }
        stored.sort();
        stored.dedup();
        stored.truncate(limit);
        stored
    }

    /// How many keys the call deleted: a page read from the store needs that much room more.
    pub fn deletions(&self) -> usize {
        self.overlay.values().filter(|v| v.is_none()).count()
    }

    /// Replays the log in `tx`, in order; the first atomic operation the database decides otherwise is a conflict.
    /// It may be replayed again in another transaction (a group commit's retry): the log stays as it is.
    /// Consecutive insert-if-absents (a delivery's dedup marks) go to the store together.
    pub fn replay(&self, tx: &mut dyn KvTransaction, ns: &str) -> Result<()> {
        let mut inserts: Vec<(&str, &[u8])> = Vec::new();
        for op in &self.log {
            if let Op::Inserted(key, value) = op {
                inserts.push((key, value));
                continue;
            }
            insert_all(tx, ns, &mut inserts)?;
            match op {
                Op::Set(key, value) => tx.upsert(ns, key, value)?,
                Op::Delete(key) => tx.delete(ns, key)?,
                Op::Inserted(..) => unreachable!("gathered above"),
                Op::Swapped(key, expected, new) => {
                    if !tx.replace_if(ns, key, expected, new)? {
                        return Err(Conflict(format!("{key} was changed by another writer")).into());
                    }
                }
            }
        }
        insert_all(tx, ns, &mut inserts)
    }
}

/// Inserts the gathered insert-if-absents, and empties the list; one already present is a conflict.
fn insert_all(tx: &mut dyn KvTransaction, ns: &str, inserts: &mut Vec<(&str, &[u8])>) -> Result<()> {
    if inserts.is_empty() {
        return Ok(());
    }
    let present = tx.insert_all_absent(ns, inserts)?;
    inserts.clear();
    match present {
        Some(key) => Err(Conflict(format!("{key} was inserted by another writer")).into()),
        None => Ok(()),
    }
}
