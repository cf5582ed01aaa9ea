//! The `storage` import: the call's own transaction, scoped to its namespace, off the guest's clock.

use super::State;
use super::bindings::storage as wit;
use crate::store::Session;
use messenger_core::ports::{Storage, StorageError};
use messenger_core::wire::Mirror;

type Answer<R> = wasmtime::Result<Result<R, wit::Error>>;

impl State {
    /// Runs a storage operation on the call's session.
    fn stored<R>(&mut self, written: usize, op: impl FnOnce(&Session) -> Result<R, StorageError>) -> Answer<R> {
        self.admit(written)?;
        let session = self.session.take().expect("the session stays in the state until the call ends");
        let result = self.clock.in_host(|| op(&session));
        self.session = Some(session);
        Ok(result.map_err(Mirror::mirror))
    }
}

impl wit::Host for State {
    fn get(&mut self, key: String) -> Answer<Option<Vec<u8>>> {
        self.stored(0, |s| s.get(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Answer<()> {
        self.stored(key.len() + value.len(), |s| s.set(&key, &value))
    }

    fn delete(&mut self, key: String) -> Answer<()> {
        self.stored(key.len(), |s| s.delete(&key))
    }

    fn exists(&mut self, key: String) -> Answer<bool> {
        self.stored(0, |s| s.exists(&key))
    }

    fn list_keys(&mut self, prefix: String, cursor: Option<String>, limit: u32) -> Answer<wit::KeyPage> {
        let page = self.stored(0, |s| s.list_keys(&prefix, cursor.as_deref(), limit))?;
        Ok(page.map(|(keys, cursor)| wit::KeyPage { keys, cursor }))
    }

    fn insert_if_absent(&mut self, key: String, value: Vec<u8>) -> Answer<bool> {
        self.stored(key.len() + value.len(), |s| s.insert_if_absent(&key, &value))
    }

    fn compare_and_swap(&mut self, key: String, expected: Option<Vec<u8>>, new: Vec<u8>) -> Answer<bool> {
        self.stored(key.len() + new.len(), |s| s.compare_and_swap(&key, expected.as_deref(), &new))
    }
}
