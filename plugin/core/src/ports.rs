//! The two capabilities the connector gets from its host, as plain traits: the WIT adapter implements them over
//! the imports, tests and native benchmarks over memory.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why no response came back (mirrors the WIT `http.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    Denied(String),
    Timeout,
    Connection(String),
    TooLarge(u64),
    InvalidRequest(String),
}

pub trait Http {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError>;
}

/// Why a storage operation failed (mirrors the WIT `storage.error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    InvalidKey(String),
    TooLarge(String),
    AccessDenied,
    Unavailable(String),
}

/// The channel's key-value store, with the atomic operations dedup relies on.
pub trait Storage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError>;
    fn delete(&self, key: &str) -> Result<(), StorageError>;
    /// True when this call stored the value; false when the key already had one.
    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StorageError>;
    /// Sets `new` only if the value is `expected` now (None: absent); true when swapped.
    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, StorageError>;
    /// Keys that start with `prefix`, in byte order, after `cursor`, at most `limit`; and the cursor of the next
    /// page (None on the last).
    fn list_keys(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<KeyPage, StorageError>;

    /// The values of `keys`, in order. A host with batched calls answers in one crossing; this default asks
    /// key by key.
    fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        keys.iter().map(|key| self.get(key)).collect()
    }
    /// `set` for each entry, in order (one crossing where the host batches).
    fn set_many(&self, entries: &[Entry<'_>]) -> Result<(), StorageError> {
        entries.iter().try_for_each(|(key, value)| self.set(key, value))
    }
    /// `insert_if_absent` for each entry, in order: true where this call set the key (one crossing where the
    /// host batches).
    fn insert_if_absent_many(&self, entries: &[Entry<'_>]) -> Result<Vec<bool>, StorageError> {
        entries.iter().map(|(key, value)| self.insert_if_absent(key, value)).collect()
    }
}

/// A key and the value to store under it, for the batched calls.
pub type Entry<'a> = (&'a str, &'a [u8]);

/// One page of keys, and where the next starts (None on the last page).
pub type KeyPage = (Vec<String>, Option<String>);

/// Every key that starts with `prefix`, page after page, in byte order.
pub fn all_keys(storage: &impl Storage, prefix: &str) -> Result<Vec<String>, StorageError> {
    let (mut keys, mut cursor) = storage.list_keys(prefix, None, 1000)?;
    while let Some(after) = cursor {
        let (page, next) = storage.list_keys(prefix, Some(&after), 1000)?;
        keys.extend(page);
        cursor = next;
    }
    Ok(keys)
}

/// A store in memory: for native tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    entries: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.entries.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.entries.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }

    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StorageError> {
        let mut entries = self.entries.borrow_mut();
        if entries.contains_key(key) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), value.to_vec());
        Ok(true)
    }

    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, StorageError> {
        let mut entries = self.entries.borrow_mut();
        if entries.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        entries.insert(key.to_owned(), new.to_vec());
        Ok(true)
    }

    fn list_keys(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<KeyPage, StorageError> {
        let limit = limit.clamp(1, 1000) as usize;
        let after = cursor.unwrap_or("");
        let entries = self.entries.borrow();
        let mut keys: Vec<String> =
            entries.keys().filter(|k| k.starts_with(prefix) && k.as_str() > after).take(limit + 1).cloned().collect();
        let next = (keys.len() > limit).then(|| {
            keys.truncate(limit);
            keys[limit - 1].clone()
        });
        Ok((keys, next))
    }
}

/// An HTTP client that reaches nothing: every request is denied. For callers that must not touch the network.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNetwork;

impl Http for NoNetwork {
    fn send(&self, _: &HttpRequest) -> Result<HttpResponse, HttpError> {
        Err(HttpError::Denied("no network in this context".into()))
    }
}
