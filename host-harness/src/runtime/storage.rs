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
    use super::super::bindings::inbound;
    use super::super::{KEEP_RESIDENT_MEMORY, Runtime, State};
    use crate::egress::{EgressPolicy, HttpClient};
    use crate::runtime::limits::Limits;
    use crate::store::{Database, Namespace};
    use crate::tools::bench::{SECRET, payload};

    /// Translates bench's payload `kind` number `n` on a fresh instance and commits: how many events, and the call's
    /// state.
    fn translate_fresh(runtime: &Runtime, database: &Database, kind: &str, n: usize) -> (usize, State) {
        let namespace = Namespace::new("instagram", "fresh").unwrap();
        let state =
            State::new(database.begin(namespace).unwrap(), HttpClient::new(EgressPolicy::default()), runtime.limits());
        let (mut store, plugin) = runtime.instantiate(state).unwrap();
        let (headers, body) = payload(kind, n);
        let delivery = inbound::Delivery { headers, body, received_at: 1_794_477_600_000 };
        let options = inbound::TranslateOptions { app_secret: SECRET.into(), filters: None };
        let events = plugin.inbound(&mut store).unwrap().call_translate(&mut store, &delivery, &options);
        let events = events.unwrap().unwrap();
        let mut state = store.into_data();
        state.take_session().commit().unwrap();
        (events.len(), state)
    }

    /// A delivery runs in the memory the instance starts with, so its slot is never made larger (an `mprotect`) on
    /// the call and smaller (another) at the next instantiation: the component's initial memory (`plugin/build.rs`)
    /// is the measured peak, which is also what the pool keeps resident.
    #[test]
    fn a_delivery_fits_the_initial_memory_the_pool_keeps_resident() {
        let runtime = Runtime::new(crate::PLUGIN_WASM, Limits::default(), None).unwrap();
        let database = Database::in_memory().unwrap();
        for (n, kind) in ["text", "batch", "korean", "comment"].into_iter().enumerate() {
            let (events, state) = translate_fresh(&runtime, &database, kind, n);
            assert!(events > 0, "{kind}");
            assert_eq!(state.memory_grows(), 0, "a {kind} delivery grew the memory to {}", state.peak_memory_bytes());
            assert!(state.peak_memory_bytes() <= KEEP_RESIDENT_MEMORY, "{kind}: {}", state.peak_memory_bytes());
        }
    }

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
