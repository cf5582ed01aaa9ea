//! A delivery's storage in few crossings: the keys it will read (settings, dedup marks, cached profiles) come in
//! one `get_many` before the items are translated; its dedup marks and profile writes are held, and go out in one
//! `insert_if_absent_many` and one `set_many` when the delivery is done. Everything else passes through.
//!
//! Within the call, every operation still sees the effects of the earlier ones (the held writes answer first).
//! A mark held as absent that another writer set in the meantime fails the delivery at `finish` as
//! `storage-conflict`: the same conflict a host finds at commit, which it answers by running the call again.

use crate::error::{ConnectorError, codes};
use crate::ports::{Entry, KeyPage, Storage, StorageError};
use std::cell::{Cell, RefCell};

pub(crate) struct ReadAhead<'a, S> {
    inner: &'a S,
    /// What the call knows of a key: its value as read ahead, or as the call has written it since. Sorted by key
    /// and binary-searched, so a delivery of thousands of items costs log n per key (a B-tree map would do the
    /// same with 19 KB more code in the component).
    known: RefCell<Vec<(String, Option<Vec<u8>>)>>,
    /// Insert-if-absent writes decided on `known`, to be sent and confirmed at `finish`.
    marks: RefCell<Vec<(String, Vec<u8>)>>,
    /// Plain sets, in the call's order, to be sent at `finish`.
    sets: RefCell<Vec<(String, Vec<u8>)>>,
    /// Whether a held mark was found set by another writer when it was sent.
    conflict: Cell<bool>,
}

impl<'a, S: Storage> ReadAhead<'a, S> {
    /// Reads `keys` (duplicates allowed) in one call.
    pub fn new(inner: &'a S, mut keys: Vec<String>) -> Result<Self, StorageError> {
        keys.sort_unstable();
        keys.dedup();
        let values = match keys.is_empty() {
            true => Vec::new(),
            false => inner.get_many(&keys.iter().map(String::as_str).collect::<Vec<_>>())?,
        };
        let known = RefCell::new(keys.into_iter().zip(values).collect());
        Ok(Self { inner, known, marks: RefCell::default(), sets: RefCell::default(), conflict: Cell::new(false) })
    }

    /// What the call knows of `key`: None when it was neither read ahead nor written.
    fn known(&self, key: &str) -> Option<Option<Vec<u8>>> {
        let known = self.known.borrow();
        known.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|at| known[at].1.clone())
    }

    /// Remembers `value` as the call's view of `key` (None: forgets the key).
    fn remember(&self, key: &str, value: Option<Option<Vec<u8>>>) {
        let mut known = self.known.borrow_mut();
        match (known.binary_search_by(|(k, _)| k.as_str().cmp(key)), value) {
            (Ok(at), Some(value)) => known[at].1 = value,
            (Ok(at), None) => drop(known.remove(at)),
            (Err(at), Some(value)) => known.insert(at, (key.to_owned(), value)),
            (Err(_), None) => {}
        }
    }

    /// Sends the held writes: the marks, confirmed one by one, then the sets. A mark another writer set since it
    /// was read fails the call as `storage-conflict`, whenever it was sent.
    pub fn finish(self) -> Result<(), ConnectorError> {
        self.flush()?;
        match self.conflict.get() {
            true => Err(ConnectorError::new(
                codes::STORAGE_CONFLICT,
                "another delivery of the same event was stored meanwhile; nothing was stored, try again",
            )),
            false => Ok(()),
        }
    }

    fn flush(&self) -> Result<(), StorageError> {
        let marks = std::mem::take(&mut *self.marks.borrow_mut());
        if !marks.is_empty() {
            let inserted = self.inner.insert_if_absent_many(&entries(&marks))?;
            if inserted.iter().any(|set| !set) {
                self.conflict.set(true);
            }
        }
        let sets = std::mem::take(&mut *self.sets.borrow_mut());
        if !sets.is_empty() {
            self.inner.set_many(&entries(&sets))?;
        }
        Ok(())
    }

    /// Before an operation that is not held: the held writes go first, so the store sees the call's order, and
    /// what the call knew of `key` is forgotten.
    fn pass_through(&self, key: Option<&str>) -> Result<(), StorageError> {
        self.flush()?;
        if let Some(key) = key {
            self.remember(key, None);
        }
        Ok(())
    }
}

fn entries(held: &[(String, Vec<u8>)]) -> Vec<Entry<'_>> {
    held.iter().map(|(key, value)| (key.as_str(), value.as_slice())).collect()
}

impl<S: Storage> Storage for ReadAhead<'_, S> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self.known(key) {
            Some(value) => Ok(value),
            None => self.inner.get(key),
        }
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.remember(key, Some(Some(value.to_vec())));
        self.sets.borrow_mut().push((key.to_owned(), value.to_vec()));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.pass_through(Some(key))?;
        self.inner.delete(key)
    }

    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StorageError> {
        match self.known(key).map(|value| value.is_none()) {
            Some(false) => Ok(false),
            Some(true) => {
                self.remember(key, Some(Some(value.to_vec())));
                self.marks.borrow_mut().push((key.to_owned(), value.to_vec()));
                Ok(true)
            }
            None => {
                self.pass_through(None)?;
                self.inner.insert_if_absent(key, value)
            }
        }
    }

    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, StorageError> {
        self.pass_through(Some(key))?;
        self.inner.compare_and_swap(key, expected, new)
    }

    fn list_keys(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<KeyPage, StorageError> {
        self.pass_through(None)?;
        self.inner.list_keys(prefix, cursor, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MemoryStorage;
    use std::cell::Cell;

    /// Counts the calls that reach the store.
    #[derive(Default)]
    struct Counting {
        store: MemoryStorage,
        calls: Cell<usize>,
    }

    impl Storage for Counting {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
            self.calls.set(self.calls.get() + 1);
            self.store.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
            self.calls.set(self.calls.get() + 1);
            self.store.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), StorageError> {
            self.store.delete(key)
        }
        fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StorageError> {
            self.calls.set(self.calls.get() + 1);
            self.store.insert_if_absent(key, value)
        }
        fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, StorageError> {
            self.store.compare_and_swap(key, expected, new)
        }
        fn list_keys(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<KeyPage, StorageError> {
            self.store.list_keys(prefix, cursor, limit)
        }
        fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
            self.calls.set(self.calls.get() + 1);
            keys.iter().map(|key| self.store.get(key)).collect()
        }
        fn set_many(&self, entries: &[Entry<'_>]) -> Result<(), StorageError> {
            self.calls.set(self.calls.get() + 1);
            entries.iter().try_for_each(|(key, value)| self.store.set(key, value))
        }
        fn insert_if_absent_many(&self, entries: &[Entry<'_>]) -> Result<Vec<bool>, StorageError> {
            self.calls.set(self.calls.get() + 1);
            entries.iter().map(|(key, value)| self.store.insert_if_absent(key, value)).collect()
        }
    }

    #[test]
    fn held_writes_answer_the_call_and_reach_the_store_in_two_calls() {
        let store = Counting::default();
        store.store.set("seen/b", b"in").unwrap();
        let keys = ["seen/a", "seen/b", "profile/1"].map(String::from).to_vec();
        let ahead = ReadAhead::new(&store, keys).unwrap();
        assert!(ahead.insert_if_absent("seen/a", b"in").unwrap());
        assert!(!ahead.insert_if_absent("seen/a", b"in").unwrap(), "the call's own mark counts");
        assert!(!ahead.insert_if_absent("seen/b", b"in").unwrap());
        ahead.set("profile/1", b"p").unwrap();
        assert_eq!(ahead.get("profile/1").unwrap().as_deref(), Some(&b"p"[..]));
        assert_eq!(store.store.get("seen/a").unwrap(), None, "held until finish");
        ahead.finish().unwrap();
        assert_eq!(store.calls.get(), 3, "one read, one insert batch, one set batch");
        assert_eq!(store.store.get("seen/a").unwrap().as_deref(), Some(&b"in"[..]));
        assert_eq!(store.store.get("profile/1").unwrap().as_deref(), Some(&b"p"[..]));
    }

    #[test]
    fn a_mark_another_writer_set_meanwhile_fails_the_delivery() {
        let store = Counting::default();
        let ahead = ReadAhead::new(&store, vec!["seen/a".into()]).unwrap();
        assert!(ahead.insert_if_absent("seen/a", b"in").unwrap());
        store.store.set("seen/a", b"in").unwrap();
        assert_eq!(ahead.finish().unwrap_err().code, codes::STORAGE_CONFLICT);
    }

    #[test]
    fn keys_not_read_ahead_pass_through_after_the_held_writes() {
        let store = Counting::default();
        let ahead = ReadAhead::new(&store, vec!["seen/a".into()]).unwrap();
        assert!(ahead.insert_if_absent("seen/a", b"in").unwrap());
        assert!(ahead.insert_if_absent("seen/other", b"in").unwrap());
        assert_eq!(store.store.get("seen/a").unwrap().as_deref(), Some(&b"in"[..]), "flushed first");
        assert!(ahead.list_keys("seen/", None, 10).unwrap().0.len() == 2);
    }
}
