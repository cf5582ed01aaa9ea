//! The `storage` capability: a key-value space on SQLite, scoped to one plugin and one channel.
//!
//! Every component call gets one connection for its whole duration and runs in one transaction: its writes are
//! committed together when the call succeeds and rolled back when it fails or traps, so a refused delivery
//! stores nothing and a crash never leaves half a delivery behind.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

/// Keys longer than this are refused: the component's keys are short and fixed-shape.
pub const MAX_KEY_BYTES: usize = 512;
/// Values larger than this are refused: the component stores small records.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

/// Why an operation failed; mirrors the WIT `storage.error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    InvalidKey(String),
    TooLarge(String),
    Unavailable(String),
}

/// Whose data a call may touch: one plugin's, of one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    pub fn new(plugin: &str, channel: &str) -> Result<Self> {
        for (what, part) in [("plugin", plugin), ("channel", channel)] {
            let valid = !part.is_empty()
                && part.len() <= 128
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            anyhow::ensure!(valid, "a {what} name is 1 to 128 letters, digits, '-', '_' or '.': {part:?}");
        }
        Ok(Self(format!("{plugin}/{channel}")))
    }
}

/// A SQLite database and a small pool of connections to it.
#[derive(Clone)]
pub struct Database {
    pool: Arc<Pool>,
}

struct Pool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

impl Database {
    /// Opens (and creates) the database at `path`, with `connections` connections for concurrent calls.
    pub fn open(path: &Path, connections: usize) -> Result<Self> {
        let mut idle = Vec::new();
        for _ in 0..connections.max(1) {
            let conn = Connection::open(path).with_context(|| format!("opening the database {}", path.display()))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            idle.push(conn);
        }
        Self::from_connections(idle)
    }

    /// A private database in memory, gone when the process ends (the default for one-shot commands).
    pub fn in_memory() -> Result<Self> {
        Self::from_connections(vec![Connection::open_in_memory()?])
    }

    fn from_connections(idle: Vec<Connection>) -> Result<Self> {
        idle[0].execute_batch(
            "CREATE TABLE IF NOT EXISTS kv (
                namespace TEXT NOT NULL,
                key TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (namespace, key)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS deliveries (
                id INTEGER PRIMARY KEY,
                namespace TEXT NOT NULL,
                received_at INTEGER NOT NULL,
                body BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS events (
                id INTEGER PRIMARY KEY,
                namespace TEXT NOT NULL,
                delivery_id INTEGER,
                json TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY,
                namespace TEXT NOT NULL,
                plan TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at INTEGER NOT NULL,
                report TEXT
            );
            CREATE TABLE IF NOT EXISTS notices (
                namespace TEXT NOT NULL,
                account_id TEXT NOT NULL,
                noticed_at INTEGER NOT NULL,
                PRIMARY KEY (namespace, account_id)
            ) WITHOUT ROWID;",
        )?;
        Ok(Self { pool: Arc::new(Pool { idle: Mutex::new(idle), returned: Condvar::new() }) })
    }

    /// Starts a transaction on a connection of its own, waiting for one if all are busy.
    pub fn begin(&self, namespace: Namespace) -> Result<Session> {
        let mut idle = self.pool.idle.lock().expect("pool lock");
        let conn = loop {
            match idle.pop() {
                Some(conn) => break conn,
                None => idle = self.pool.returned.wait(idle).expect("pool lock"),
            }
        };
        drop(idle);
        let session = Session { conn: Some(conn), pool: self.pool.clone(), namespace };
        session.conn().execute_batch("BEGIN IMMEDIATE")?;
        Ok(session)
    }

    /// Sets one value outside any component call (host-provisioned keys such as tokens).
    pub fn provision(&self, namespace: Namespace, key: &str, value: &[u8]) -> Result<()> {
        let session = self.begin(namespace)?;
        session.set(key, value).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        session.commit()
    }
}

/// One call's view of the store: one namespace, one transaction.
pub struct Session {
    conn: Option<Connection>,
    pool: Arc<Pool>,
    namespace: Namespace,
}

impl Session {
    /// The connection, inside this session's transaction: for the host's own records beside the plugin's.
    pub(crate) fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("a session holds its connection until dropped")
    }

    pub fn namespace(&self) -> &str {
        &self.namespace.0
    }

    pub fn commit(self) -> Result<()> {
        self.conn().execute_batch("COMMIT").context("committing the call's storage writes")
    }

    pub fn rollback(self) -> Result<()> {
        self.conn().execute_batch("ROLLBACK").context("rolling back the call's storage writes")
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(key)?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT value FROM kv WHERE namespace = ?1 AND key = ?2")
            .map_err(unavailable)?;
        stmt.query_row(params![self.namespace.0, key], |row| row.get(0)).optional().map_err(unavailable)
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        check_key(key)?;
        check_value(value)?;
        let sql = "INSERT INTO kv (namespace, key, value) VALUES (?1, ?2, ?3)
                   ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value";
        self.execute(sql, params![self.namespace.0, key, value]).map(drop)
    }

    pub fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_key(key)?;
        self.execute("DELETE FROM kv WHERE namespace = ?1 AND key = ?2", params![self.namespace.0, key]).map(drop)
    }

    pub fn exists(&self, key: &str) -> Result<bool, StorageError> {
        Ok(self.get(key)?.is_some())
    }

    /// Keys starting with `prefix`, in byte order, after `cursor`, at most `limit` (capped at 1000).
    pub fn list_keys(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<String>, Option<String>), StorageError> {
        let limit = limit.clamp(1, 1000) as usize;
        let sql = "SELECT key FROM kv WHERE namespace = ?1 AND substr(key, 1, length(?2)) = ?2 AND key > ?3
                   ORDER BY key LIMIT ?4";
        let mut stmt = self.conn().prepare_cached(sql).map_err(unavailable)?;
        let rows = stmt.query_map(params![self.namespace.0, prefix, cursor.unwrap_or(""), (limit + 1) as i64], |row| {
            row.get::<_, String>(0)
        });
        let mut keys = rows.and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>).map_err(unavailable)?;
        let next = (keys.len() > limit).then(|| {
            keys.truncate(limit);
            keys[limit - 1].clone()
        });
        Ok((keys, next))
    }

    /// Atomic: a unique key decides, never a read followed by a write.
    pub fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, StorageError> {
        check_key(key)?;
        check_value(value)?;
        let sql = "INSERT INTO kv (namespace, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
        Ok(self.execute(sql, params![self.namespace.0, key, value])? == 1)
    }

    /// Atomic: one conditional statement.
    pub fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, StorageError> {
        let Some(expected) = expected else { return self.insert_if_absent(key, new) };
        check_key(key)?;
        check_value(new)?;
        let sql = "UPDATE kv SET value = ?3 WHERE namespace = ?1 AND key = ?2 AND value = ?4";
        Ok(self.execute(sql, params![self.namespace.0, key, new, expected])? == 1)
    }

    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize, StorageError> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(unavailable)?;
        stmt.execute(params).map_err(unavailable)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A session dropped without commit (a trap, a panic) discards its writes.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.idle.lock().expect("pool lock").push(conn);
            self.pool.returned.notify_one();
        }
    }
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

fn unavailable(error: rusqlite::Error) -> StorageError {
    StorageError::Unavailable(error.to_string())
}

/// The core's storage port over a session, so the native core can run on the very store the component uses
/// (the benchmark compares them on equal terms).
impl messenger_core::ports::Storage for Session {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, messenger_core::ports::StorageError> {
        Session::get(self, key).map_err(port_error)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), messenger_core::ports::StorageError> {
        Session::set(self, key, value).map_err(port_error)
    }
    fn delete(&self, key: &str) -> Result<(), messenger_core::ports::StorageError> {
        Session::delete(self, key).map_err(port_error)
    }
    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, messenger_core::ports::StorageError> {
        Session::insert_if_absent(self, key, value).map_err(port_error)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, messenger_core::ports::StorageError> {
        Session::compare_and_swap(self, key, expected, new).map_err(port_error)
    }
}

fn port_error(error: StorageError) -> messenger_core::ports::StorageError {
    match error {
        StorageError::InvalidKey(why) => messenger_core::ports::StorageError::InvalidKey(why),
        StorageError::TooLarge(why) => messenger_core::ports::StorageError::TooLarge(why),
        StorageError::Unavailable(why) => messenger_core::ports::StorageError::Unavailable(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(db: &Database, channel: &str) -> Session {
        db.begin(Namespace::new("instagram", channel).unwrap()).unwrap()
    }

    #[test]
    fn insert_if_absent_is_first_writer_wins() {
        let db = Database::in_memory().unwrap();
        let s = session(&db, "c1");
        assert!(s.insert_if_absent("seen/1", b"a").unwrap());
        assert!(!s.insert_if_absent("seen/1", b"b").unwrap());
        assert_eq!(s.get("seen/1").unwrap().as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn compare_and_swap_needs_the_expected_value() {
        let db = Database::in_memory().unwrap();
        let s = session(&db, "c1");
        assert!(s.compare_and_swap("k", None, b"1").unwrap());
        assert!(!s.compare_and_swap("k", None, b"2").unwrap());
        assert!(!s.compare_and_swap("k", Some(b"0"), b"2").unwrap());
        assert!(s.compare_and_swap("k", Some(b"1"), b"2").unwrap());
        assert_eq!(s.get("k").unwrap().as_deref(), Some(&b"2"[..]));
    }

    #[test]
    fn channels_do_not_see_each_other() {
        let db = Database::in_memory().unwrap();
        let s = session(&db, "c1");
        s.set("account/1/access-token", b"secret").unwrap();
        s.commit().unwrap();
        let other = session(&db, "c2");
        assert_eq!(other.get("account/1/access-token").unwrap(), None);
        assert_eq!(other.list_keys("", None, 10).unwrap().0, Vec::<String>::new());
    }

    #[test]
    fn rollback_and_drop_discard_writes() {
        let db = Database::in_memory().unwrap();
        let s = session(&db, "c1");
        s.set("a", b"1").unwrap();
        s.rollback().unwrap();
        let s = session(&db, "c1");
        s.set("b", b"1").unwrap();
        drop(s);
        let s = session(&db, "c1");
        assert_eq!((s.get("a").unwrap(), s.get("b").unwrap()), (None, None));
    }

    #[test]
    fn lists_keys_by_prefix_in_pages() {
        let db = Database::in_memory().unwrap();
        let s = session(&db, "c1");
        for key in ["p/1", "p/2", "p/3", "q/1"] {
            s.set(key, b"").unwrap();
        }
        let (page, cursor) = s.list_keys("p/", None, 2).unwrap();
        assert_eq!((page, cursor.clone()), (vec!["p/1".to_string(), "p/2".to_string()], Some("p/2".to_string())));
        assert_eq!(s.list_keys("p/", cursor.as_deref(), 2).unwrap(), (vec!["p/3".to_string()], None));
    }

    #[test]
    fn refuses_bad_keys_and_huge_values() {
        let db = Database::in_memory().unwrap();
        let s = session(&db, "c1");
        assert!(matches!(s.get(""), Err(StorageError::InvalidKey(_))));
        assert!(matches!(s.set(&"k".repeat(MAX_KEY_BYTES + 1), b""), Err(StorageError::InvalidKey(_))));
        assert!(matches!(s.set("k", &vec![0; MAX_VALUE_BYTES + 1]), Err(StorageError::TooLarge(_))));
    }
}
