//! The `storage` import: the call's own transaction, scoped to its namespace, off the guest's clock.

use super::State;
use super::bindings::storage as wit;
use crate::store::Session;
use messenger_core::ports::{Entry, Storage, StorageError};
use messenger_core::wire::Mirror;

type Answer<R> = wasmtime::Result<Result<R, wit::Error>>;

impl State {
    /// Runs a storage operation on the call's session.
    fn stored<R>(&mut self, written: usize, op: impl FnOnce(&Session) -> Result<R, StorageError>) -> Answer<R> {
        self.stored_many(1, written, op)
    }

    /// Runs a storage operation of `operations` keys on the call's session.
    fn stored_many<R>(
        &mut self,
        operations: usize,
        written: usize,
        op: impl FnOnce(&Session) -> Result<R, StorageError>,
    ) -> Answer<R> {
        self.admit(operations.max(1), written)?;
        self.storage_crossings += 1;
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

    fn get_many(&mut self, keys: Vec<String>) -> Answer<Vec<Option<Vec<u8>>>> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.stored_many(keys.len(), 0, |s| s.get_many(&keys))
    }

    fn set_many(&mut self, entries: Vec<wit::Entry>) -> Answer<()> {
        let (written, entries) = borrowed(&entries);
        self.stored_many(entries.len(), written, |s| s.set_many(&entries))
    }

    fn insert_if_absent_many(&mut self, entries: Vec<wit::Entry>) -> Answer<Vec<bool>> {
        let (written, entries) = borrowed(&entries);
        self.stored_many(entries.len(), written, |s| s.insert_if_absent_many(&entries))
    }
}

/// The batch as the core's entries, and the bytes it would write (for the call's write budget).
fn borrowed(entries: &[wit::Entry]) -> (usize, Vec<Entry<'_>>) {
    let written = entries.iter().map(|e| e.key.len() + e.value.len()).sum();
    (written, entries.iter().map(|e| (e.key.as_str(), e.value.as_slice())).collect())
}

#[cfg(test)]
mod tests {
    use super::super::Runtime;
    use super::super::tests::translate_fresh;
    use crate::runtime::limits::Limits;
    use crate::store::Database;

    /// Translates bench's 10-message payload `n` on a fresh instance: how many events, and how many times it called
    /// `storage`.
    fn crossings(runtime: &Runtime, database: &Database, n: usize) -> (usize, usize) {
        let (events, state) = translate_fresh(runtime, database, "batch", n);
        (events, state.storage_crossings())
    }

    #[test]
    fn a_delivery_of_ten_messages_crosses_into_storage_a_few_times_not_per_key() {
        let runtime = Runtime::new(crate::PLUGIN_WASM, Limits::default(), None).unwrap();
        let database = Database::in_memory().unwrap();
        // One read of the filters, marks and cached profile; the two token keys (no profile cached, no token);
        // one write of the ten marks. Key by key it was 14.
        assert_eq!(crossings(&runtime, &database, 1), (10, 4));
        // Again: every mark is found in the one read, and duplicates need no profile.
        assert_eq!(crossings(&runtime, &database, 1), (10, 1));
    }
}
