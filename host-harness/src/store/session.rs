//! One call's view of the store: one namespace, and one of three ways of writing.
//!
//! - **Direct**: a transaction opened at once and held until commit, for the host's own short work (journal,
//!   provisioning), which makes no network call inside it.
//! - **Buffered**, for a component call: reads go to the store as they come, writes wait in the session (`buffer`)
//!   and are replayed at commit in one short transaction, where the database decides every insert-if-absent and
//!   compare-and-swap again. No lock is held while the guest runs or waits on Graph (a profile fetch in
//!   `translate`); a call that lost a race fails as a `Conflict` and may be run again.
//! - **Write-through**, for `outbound.send`: each write is its own short transaction, decided by the database at
//!   once. What send records (a send budget spent, a message sent, a link broken) is a fact about the world once
//!   its request went out, so it must not wait for the call's end, nor be rolled back with it; and its
//!   compare-and-swap loop (the budget) then sees other writers at once instead of conflicting at commit.
//!
//! Token keys are sealed here on the way in and opened on the way out (`sealing`), whatever the mode.

use super::buffer::Buffer;
use super::sealing::{self, Sealer};
use super::{Database, JournalTransaction, KvTransaction, MAX_KEY_BYTES, MAX_VALUE_BYTES, Namespace, Transaction};
use anyhow::{Context, Result};
use messenger_core::ports::{Entry, StorageError};
use std::cell::RefCell;

/// How a component call's writes reach the store (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    Buffered,
    WriteThrough,
}

enum Mode {
    Direct(RefCell<Option<Box<dyn Transaction>>>),
    Buffered(RefCell<Buffer>),
    WriteThrough,
}

/// What the store does with tokens (`sealing::is_token_key`).
#[derive(Clone, Default)]
pub enum Tokens {
    /// Stored as given (the library's default; the CLI always seals a database on disk).
    #[default]
    Plain,
    Sealed(std::sync::Arc<Sealer>),
    /// Refused: a shared database with no key configured must not hold tokens in the clear.
    Refused,
}

pub struct Session {
    database: Database,
    namespace: Namespace,
    mode: Mode,
}

impl Session {
    pub(super) fn direct(database: Database, namespace: Namespace, tx: Box<dyn Transaction>) -> Self {
        Self { database, namespace, mode: Mode::Direct(RefCell::new(Some(tx))) }
    }

    pub(super) fn for_call(database: Database, namespace: Namespace, writes: Writes) -> Self {
        let mode = match writes {
            Writes::Buffered => Mode::Buffered(RefCell::default()),
            Writes::WriteThrough => Mode::WriteThrough,
        };
        Self { database, namespace, mode }
    }

    pub fn namespace(&self) -> &str {
        self.namespace.as_str()
    }

    /// Runs `op` on the open transaction's journal, with the session's namespace (direct sessions only).
    pub(crate) fn journal<R>(&self, op: impl FnOnce(&mut dyn JournalTransaction, &str) -> Result<R>) -> Result<R> {
        let Mode::Direct(tx) = &self.mode else { anyhow::bail!("the journal is written in a direct transaction") };
        let mut tx = tx.borrow_mut();
        op(tx.as_deref_mut().expect("a session holds its transaction until it ends").journal(), self.namespace())
    }

    /// Runs `op` where this session reads: its transaction, or a short read of its own.
    fn read<R>(&self, op: impl FnOnce(&mut dyn KvTransaction, &str) -> Result<R>) -> Result<R, StorageError> {
        let result = match &self.mode {
            Mode::Direct(tx) => {
                let mut tx = tx.borrow_mut();
                op(tx.as_deref_mut().expect("a session holds its transaction until it ends").kv(), self.namespace())
            }
            _ => self.database.short(false, &self.namespace, op),
        };
        result.map_err(unavailable)
    }

    /// Runs `op` where this session writes at once: its transaction, or (write-through) a short one of its own.
    fn write<R>(&self, op: impl FnOnce(&mut dyn KvTransaction, &str) -> Result<R>) -> Result<R, StorageError> {
        match &self.mode {
            Mode::WriteThrough => self.database.short(true, &self.namespace, op).map_err(unavailable),
            _ => self.read(op),
        }
    }

    /// The stored (perhaps sealed) value, the call's own writes first.
    fn raw(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        if let Mode::Buffered(buffer) = &self.mode
            && let Some(own) = buffer.borrow().own(key)
        {
            return Ok(own);
        }
        self.read(|tx, ns| tx.get(ns, key))
    }

    /// `raw` for many keys, with one read of the store for those the call has not written.
    fn raw_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let own = |key: &str| match &self.mode {
            Mode::Buffered(buffer) => buffer.borrow().own(key),
            _ => None,
        };
        let mut found: Vec<Option<Option<Vec<u8>>>> = keys.iter().map(|key| own(key)).collect();
        let unread: Vec<&str> = keys.iter().zip(&found).filter(|(_, own)| own.is_none()).map(|(key, _)| *key).collect();
        if unread.is_empty() {
            return Ok(found.into_iter().flatten().collect());
        }
        let mut stored = self.read(|tx, ns| unread.iter().map(|key| tx.get(ns, key)).collect::<Result<Vec<_>>>())?;
        stored.reverse();
        for slot in found.iter_mut().filter(|slot| slot.is_none()) {
            *slot = stored.pop();
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Checks and seals every entry of a batch before any is written, so a refused batch writes nothing.
    fn checked(&self, entries: &[Entry<'_>]) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        entries
            .iter()
            .map(|(key, value)| {
                check_key(key)?;
                check_value(value)?;
                Ok(((*key).to_owned(), self.seal(key, value)?))
            })
            .collect()
    }

    fn seal(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StorageError> {
        match (&self.database.tokens, sealing::is_token_key(key)) {
            (Tokens::Sealed(sealer), true) => sealer.seal(self.namespace(), key, value).map_err(unavailable),
            (Tokens::Refused, true) => Err(StorageError::AccessDenied),
            _ => Ok(value.to_vec()),
        }
    }

    fn open(&self, key: &str, stored: Vec<u8>) -> Result<Vec<u8>, StorageError> {
        match &self.database.tokens {
            Tokens::Sealed(sealer) if sealing::is_sealed(&stored) => {
                sealer.open(self.namespace(), key, &stored).map_err(unavailable)
            }
            _ if sealing::is_sealed(&stored) => {
                Err(StorageError::Unavailable(format!("{key} is sealed, and no token key is configured")))
            }
            _ => Ok(stored),
        }
    }

    /// Commits the session's writes, with `then` run first in the same transaction (the host's journal).
    pub(crate) fn commit_with(mut self, then: impl FnOnce(&Session) -> Result<()>) -> Result<()> {
        match std::mem::replace(&mut self.mode, Mode::WriteThrough) {
            Mode::Direct(tx) => {
                self.mode = Mode::Direct(tx);
                then(&self)?;
                let Mode::Direct(tx) = &self.mode else { unreachable!() };
                let tx = tx.borrow_mut().take().expect("a session ends once");
                tx.commit().context("committing the call's storage writes")
            }
            Mode::Buffered(buffer) => {
                let direct = self.database.begin(self.namespace.clone())?;
                if let Mode::Direct(tx) = &direct.mode {
                    let mut tx = tx.borrow_mut();
                    buffer.into_inner().replay(tx.as_deref_mut().expect("just begun").kv(), self.namespace.as_str())?;
                }
                direct.commit_with(then)
            }
            Mode::WriteThrough => self.database.begin(self.namespace.clone())?.commit_with(then),
        }
    }

    /// Commits the session's writes with `record` (the host's journal) applied in the same transaction, a
    /// transaction shared with the calls that commit at the same time (`group`).
    pub(crate) fn commit_grouped(
        mut self,
        record: impl Fn(&mut dyn JournalTransaction, &str) -> Result<()> + Send + 'static,
    ) -> Result<()> {
        let buffer = match std::mem::replace(&mut self.mode, Mode::WriteThrough) {
            Mode::Buffered(buffer) => Some(buffer.into_inner()),
            Mode::WriteThrough => None,
            direct @ Mode::Direct(_) => {
                self.mode = direct;
                return self.commit_with(|session| session.journal(&record));
            }
        };
        let namespace = self.namespace.as_str().to_owned();
        self.database.commit_grouped(Box::new(move |tx| {
            if let Some(buffer) = &buffer {
                buffer.replay(tx.kv(), &namespace)?;
            }
            record(tx.journal(), &namespace)
        }))
    }

    pub fn commit(self) -> Result<()> {
        self.commit_with(|_| Ok(()))
    }

    /// Discards the session's writes (write-through writes are already stored).
    pub fn rollback(mut self) -> Result<()> {
        if let Mode::Direct(tx) = &mut self.mode
            && let Some(tx) = tx.get_mut().take()
        {
            tx.rollback().context("rolling back the call's storage writes")?;
        }
        Ok(())
    }

    pub fn exists(&self, key: &str) -> Result<bool, StorageError> {
        check_key(key)?;
        Ok(self.raw(key)?.is_some())
    }

    /// Keys starting with `prefix`, in byte order, after `cursor`, at most `limit` (capped at 1000).
    pub fn list_keys(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<String>, Option<String>), StorageError> {
        let limit = limit.clamp(1, 1000) as usize;
        let after = cursor.unwrap_or("");
        let mut keys = match &self.mode {
            Mode::Buffered(buffer) => {
                let room = limit + 1 + buffer.borrow().deletions();
                let stored = self.read(|tx, ns| tx.list_keys(ns, prefix, after, room))?;
                buffer.borrow().merge_keys(stored, prefix, after, limit + 1)
            }
            _ => self.read(|tx, ns| tx.list_keys(ns, prefix, after, limit + 1))?,
        };
        let next = (keys.len() > limit).then(|| {
            keys.truncate(limit);
            keys[limit - 1].clone()
        });
        Ok((keys, next))
    }
}

/// The key-value face, checked: keys and values within bounds, atomic operations decided by the database (a unique
/// key, one conditional statement), never a read followed by a blind write.
impl messenger_core::ports::Storage for Session {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        self.raw(key)?.map(|stored| self.open(key, stored)).transpose()
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        check_value(value)?;
        let value = self.seal(key, value)?;
        match &self.mode {
            Mode::Buffered(buffer) => {
                buffer.borrow_mut().set(key, &value);
                Ok(())
            }
            _ => self.write(|tx, ns| tx.upsert(ns, key, &value)),
        }
    }

    fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        match &self.mode {
            Mode::Buffered(buffer) => {
                buffer.borrow_mut().delete(key);
                Ok(())
            }
            _ => self.write(|tx, ns| tx.delete(ns, key)),
        }
    }

    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StorageError> {
        check_key(key)?;
        check_value(value)?;
        let value = self.seal(key, value)?;
        match &self.mode {
            Mode::Buffered(buffer) => {
                let absent = self.raw(key)?.is_none();
                if absent {
                    buffer.borrow_mut().inserted(key, &value);
                }
                Ok(absent)
            }
            _ => self.write(|tx, ns| tx.insert_if_absent(ns, key, &value)),
        }
    }

    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, StorageError> {
        let Some(expected) = expected else { return self.insert_if_absent(key, new) };
        check_key(key)?;
        check_value(new)?;
        // A sealed value is compared opened: the stored bytes carry a random nonce.
        let current = self.raw(key)?;
        let matches = match &current {
            Some(stored) => self.open(key, stored.clone())? == expected,
            None => false,
        };
        let (Some(stored), true) = (current, matches) else { return Ok(false) };
        let new = self.seal(key, new)?;
        match &self.mode {
            Mode::Buffered(buffer) => {
                buffer.borrow_mut().swapped(key, &stored, &new);
                Ok(true)
            }
            _ => self.write(|tx, ns| tx.replace_if(ns, key, &stored, &new)),
        }
    }

    fn list_keys(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<messenger_core::ports::KeyPage, StorageError> {
        // The inherent method: the same page, for the core's callers.
        Session::list_keys(self, prefix, cursor, limit)
    }

    /// One read of the store for the whole batch (in a buffered call, one short transaction instead of one per key).
    fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        keys.iter().try_for_each(|key| check_key(key))?;
        let found = self.raw_many(keys)?;
        keys.iter().zip(found).map(|(key, stored)| stored.map(|stored| self.open(key, stored)).transpose()).collect()
    }

    fn set_many(&self, entries: &[Entry<'_>]) -> Result<(), StorageError> {
        let sealed = self.checked(entries)?;
        match &self.mode {
            Mode::Buffered(buffer) => {
                let mut buffer = buffer.borrow_mut();
                sealed.iter().for_each(|(key, value)| buffer.set(key, value));
                Ok(())
            }
            _ => self.write(|tx, ns| sealed.iter().try_for_each(|(key, value)| tx.upsert(ns, key, value))),
        }
    }

    fn insert_if_absent_many(&self, entries: &[Entry<'_>]) -> Result<Vec<bool>, StorageError> {
        let sealed = self.checked(entries)?;
        match &self.mode {
            Mode::Buffered(buffer) => {
                let keys: Vec<&str> = entries.iter().map(|(key, _)| *key).collect();
                let stored = self.raw_many(&keys)?;
                let mut buffer = buffer.borrow_mut();
                // An earlier entry of the batch for the same key is in the buffer by then: the buffer answers first.
                let decided = sealed.iter().zip(stored).map(|((key, value), stored)| {
                    let absent = buffer.own(key).unwrap_or(stored).is_none();
                    if absent {
                        buffer.inserted(key, value);
                    }
                    absent
                });
                Ok(decided.collect())
            }
            _ => self.write(|tx, ns| sealed.iter().map(|(key, value)| tx.insert_if_absent(ns, key, value)).collect()),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A direct session dropped without commit (a trap, a panic) discards its writes; a buffered one's were
        // never written.
        if let Mode::Direct(tx) = &mut self.mode
            && let Some(tx) = tx.get_mut().take()
        {
            let _ = tx.rollback();
        }
    }
}

fn unavailable(error: anyhow::Error) -> StorageError {
    StorageError::Unavailable(format!("{error:#}"))
}

fn check_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.contains('\0') {
        return Err(StorageError::InvalidKey(format!("a key is 1 to {MAX_KEY_BYTES} bytes without NUL")));
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), StorageError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StorageError::TooLarge(format!(
            "a value is at most {MAX_VALUE_BYTES} bytes; this one has {}",
            value.len()
        )));
    }
    Ok(())
}
