//! The embedded SQLite backend: one machine, WAL, `synchronous=FULL` (a commit is on disk), and a small pool of
//! connections. Write transactions take the database lock at BEGIN (IMMEDIATE), so they never deadlock midway;
//! they are short, since a component call's writes are applied only at its end (`session`). Reads begin DEFERRED
//! and take no lock. The files are the owner's only (0600).
//!
//! Without an explicit busy timeout a writer waiting for the lock would fail at once: it waits up to 5 s, far longer
//! than any write transaction holds it now.

use super::feed::Position;
use super::schema::{self, Migration};
use super::{Backend, Claim, ClaimedRow, JournalTransaction, KvTransaction, NewReply, Settlement, Transaction};
use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

pub struct Sqlite {
    pool: Arc<Pool>,
    what: String,
}

struct Pool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
}

impl Sqlite {
    pub fn open(path: &Path, connections: usize) -> Result<Self> {
        super::files::private_database(path)?;
        let mut idle = Vec::new();
        for _ in 0..connections.max(1) {
            let conn = Connection::open(path).with_context(|| format!("opening the database {}", path.display()))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            idle.push(conn);
        }
        let sqlite = Self::from_connections(idle, format!("SQLite {}", path.display()))?;
        // The WAL and shared-memory files exist now: owner-only too.
        super::files::private_database(path)?;
        Ok(sqlite)
    }

    pub fn in_memory() -> Result<Self> {
        Self::from_connections(vec![Connection::open_in_memory()?], "SQLite in memory".into())
    }

    fn from_connections(mut idle: Vec<Connection>, what: String) -> Result<Self> {
        migrate(&mut idle[0]).context("migrating the SQLite schema")?;
        Ok(Self { pool: Arc::new(Pool { idle: Mutex::new(idle), returned: Condvar::new() }), what })
    }
}

/// Applies what `schema_migrations` does not list yet, in one write transaction (concurrent starts wait).
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)")?;
    for Migration { version, sql } in schema::SQLITE_MIGRATIONS {
        let applied: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| {
                r.get(0)
            })?;
        if !applied {
            tx.execute_batch(sql).with_context(|| format!("migration {version}"))?;
            tx.execute(
                "INSERT INTO schema_migrations VALUES (?1, ?2)",
                params![version, crate::clock::now_ms() as i64],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

impl Backend for Sqlite {
    fn begin(&self, write: bool) -> Result<Box<dyn Transaction>> {
        let mut idle = self.pool.idle.lock().expect("pool lock");
        let conn = loop {
            match idle.pop() {
                Some(conn) => break conn,
                None => idle = self.pool.returned.wait(idle).expect("pool lock"),
            }
        };
        drop(idle);
        let tx = SqliteTx { conn: Some(conn), pool: self.pool.clone() };
        tx.conn().execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN DEFERRED" })?;
        Ok(Box::new(tx))
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}

struct SqliteTx {
    conn: Option<Connection>,
    pool: Arc<Pool>,
}

impl SqliteTx {
    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("a transaction holds its connection until dropped")
    }

    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        Ok(self.conn().prepare_cached(sql)?.execute(params)?)
    }

    fn one<T: rusqlite::types::FromSql>(&self, sql: &str, params: impl rusqlite::Params) -> Result<Option<T>> {
        Ok(self.conn().prepare_cached(sql)?.query_row(params, |row| row.get(0)).optional()?)
    }

    fn column<T: rusqlite::types::FromSql>(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(sql)?;
        let rows = stmt.query_map(params, |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Dropped without commit (a trap, a panic): its writes are discarded.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.idle.lock().expect("pool lock").push(conn);
            self.pool.returned.notify_one();
        }
    }
}

/// A claimed outbox row, as `RETURNING id, plan, attempts, in_flight` gives it.
fn claimed_row(row: &rusqlite::Row) -> rusqlite::Result<ClaimedRow> {
    Ok(ClaimedRow { id: row.get(0)?, plan: row.get(1)?, attempts: row.get(2)?, in_flight: row.get(3)? })
}

impl Transaction for SqliteTx {
    fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.conn().execute_batch("COMMIT")?)
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        Ok(self.conn().execute_batch("ROLLBACK")?)
    }

    fn kv(&mut self) -> &mut dyn KvTransaction {
        self
    }

    fn journal(&mut self) -> &mut dyn JournalTransaction {
        self
    }
}

impl KvTransaction for SqliteTx {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.one(schema::KV_GET, params![ns, key])
    }

    fn upsert(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<()> {
        self.execute(schema::KV_UPSERT, params![ns, key, value, crate::clock::now_ms() as i64]).map(drop)
    }

    fn delete(&mut self, ns: &str, key: &str) -> Result<()> {
        self.execute(schema::KV_DELETE, params![ns, key]).map(drop)
    }

    fn insert_if_absent(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<bool> {
        Ok(self.execute(schema::KV_INSERT_IF_ABSENT, params![ns, key, value, crate::clock::now_ms() as i64])? == 1)
    }

    fn replace_if(&mut self, ns: &str, key: &str, expected: &[u8], new: &[u8]) -> Result<bool> {
        Ok(self.execute(schema::KV_REPLACE_IF, params![ns, key, new, expected, crate::clock::now_ms() as i64])? == 1)
    }

    fn list_keys(&mut self, ns: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<String>> {
        self.column(schema::KV_LIST, params![ns, prefix, after, limit as i64])
    }
}

impl JournalTransaction for SqliteTx {
    fn insert_delivery(&mut self, ns: &str, received_at: i64, body: &[u8]) -> Result<i64> {
        Ok(self.one(schema::INSERT_DELIVERY, params![ns, received_at, body])?.expect("RETURNING gives the id"))
    }

    fn insert_event(&mut self, ns: &str, delivery: Option<i64>, json: &str) -> Result<()> {
        self.execute(schema::INSERT_EVENT, params![ns, delivery, json]).map(drop)
    }

    fn events(&mut self, ns: &str) -> Result<Vec<String>> {
        self.column(schema::EVENTS, [ns])
    }

    fn feed(&mut self, ns: &str, after: Position, limit: usize) -> Result<Vec<(Position, String)>> {
        let mut stmt = self.conn().prepare_cached(schema::FEED_SQLITE)?;
        let values = params![ns, after.xid as i64, after.id, limit as i64];
        let rows = stmt.query_map(values, |row| Ok((Position { xid: 0, id: row.get(0)? }, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn enqueue(&mut self, ns: &str, r: &NewReply) -> Result<Option<i64>> {
        let (holder, until) = (r.lease.map(|l| l.0), r.lease.map(|l| l.1));
        self.one(schema::ENQUEUE, params![ns, r.plan, r.next_attempt_at, r.request_key, holder, until])
    }

    fn enqueued_by_key(&mut self, ns: &str, request_key: &str) -> Result<Option<i64>> {
        self.one(schema::ENQUEUED_BY_KEY, params![ns, request_key])
    }

    fn claim_due(&mut self, ns: &str, c: &Claim) -> Result<Vec<ClaimedRow>> {
        let sql = schema::CLAIM_DUE.replace("{lock}", "");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![ns, c.now, c.holder, c.lease_until, c.limit as i64], claimed_row)?;
        let mut claimed = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        claimed.sort_by_key(|row| row.id);
        Ok(claimed)
    }

    fn mark_in_flight(&mut self, id: i64, owner: &str, plan: &str) -> Result<bool> {
        Ok(self.execute(schema::MARK_IN_FLIGHT, params![id, owner, plan])? == 1)
    }

    fn settle(&mut self, id: i64, owner: &str, s: &Settlement) -> Result<bool> {
        let values = params![id, owner, s.status, s.plan, s.attempts, s.next_attempt_at as i64, s.report, s.settled_at];
        Ok(self.execute(schema::SETTLE, values)? == 1)
    }

    fn outbox_status(&mut self, ns: &str, id: i64) -> Result<Option<(String, u32, Option<String>)>> {
        let mut stmt = self.conn().prepare_cached(schema::OUTBOX_STATUS)?;
        Ok(stmt.query_row(params![id, ns], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?)
    }

    fn touch_account(&mut self, ns: &str, account: &str, at: i64) -> Result<()> {
        self.execute(schema::TOUCH_ACCOUNT, params![ns, account, at]).map(drop)
    }

    fn touch_customer(&mut self, ns: &str, account: &str, customer: &str, at: i64) -> Result<()> {
        self.execute(schema::TOUCH_CUSTOMER, params![ns, account, customer, at]).map(drop)
    }

    fn last_webhook(&mut self, ns: &str, account: &str) -> Result<Option<i64>> {
        Ok(self.one::<Option<i64>>(schema::LAST_WEBHOOK, params![ns, account])?.flatten())
    }

    fn last_customer_message(&mut self, ns: &str, account: &str, customer: &str) -> Result<Option<i64>> {
        Ok(self.one::<Option<i64>>(schema::LAST_CUSTOMER_MESSAGE, params![ns, account, customer])?.flatten())
    }

    fn prune(&mut self, sql: &'static str, ns: &str, before: i64) -> Result<u64> {
        Ok(self.execute(sql, params![ns, before])? as u64)
    }

    fn feed_all(&mut self, after: Position, limit: usize) -> Result<Vec<(Position, String, String)>> {
        let mut stmt = self.conn().prepare_cached(schema::FEED_ALL_SQLITE)?;
        let values = params![after.xid as i64, after.id, limit as i64];
        let rows =
            stmt.query_map(values, |row| Ok((Position { xid: 0, id: row.get(0)? }, row.get(1)?, row.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn claim_route(&mut self, ns: &str, account: &str, at: i64) -> Result<bool> {
        Ok(self.execute(schema::CLAIM_ROUTE, params![ns, account, at])? == 1)
    }

    fn release_route(&mut self, ns: &str, account: &str) -> Result<()> {
        self.execute(schema::RELEASE_ROUTE, params![ns, account]).map(drop)
    }

    fn route_of(&mut self, account: &str) -> Result<Option<String>> {
        self.one(schema::ROUTE_OF, [account])
    }

    fn channels(&mut self) -> Result<Vec<String>> {
        self.column(schema::CHANNELS_KNOWN, [])
    }

    fn channels_due(&mut self, now: i64) -> Result<Vec<String>> {
        self.column(schema::CHANNELS_DUE, [now])
    }

    fn channel_settings(&mut self, ns: &str) -> Result<Option<String>> {
        self.one(schema::CHANNEL_SETTINGS, [ns])
    }

    fn set_channel_settings(&mut self, ns: &str, json: &str) -> Result<()> {
        self.execute(schema::SET_CHANNEL_SETTINGS, params![ns, json]).map(drop)
    }

    fn pending_load(&mut self, ns: &str) -> Result<(u64, u64)> {
        let mut stmt = self.conn().prepare_cached(schema::PENDING_LOAD)?;
        Ok(stmt.query_row([ns], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))?)
    }

    fn purge_settled(&mut self, ns: &str, before: i64) -> Result<u64> {
        Ok(self.execute(schema::PURGE_SETTLED, params![ns, before])? as u64)
    }

    fn last_notice(&mut self, ns: &str, account: &str) -> Result<Option<i64>> {
        self.one(schema::LAST_NOTICE, params![ns, account])
    }

    fn insert_notice(&mut self, ns: &str, account: &str, at: i64) -> Result<bool> {
        Ok(self.execute(schema::FIRST_NOTICE, params![ns, account, at])? == 1)
    }

    fn replace_notice(&mut self, ns: &str, account: &str, expected: i64, at: i64) -> Result<bool> {
        Ok(self.execute(schema::NEXT_NOTICE, params![ns, account, at, expected])? == 1)
    }

    fn take_lease(&mut self, name: &str, owner: &str, now: i64, until: i64) -> Result<bool> {
        Ok(self.execute(schema::TAKE_LEASE, params![name, owner, now, until])? == 1)
    }

    fn release_lease(&mut self, name: &str, owner: &str) -> Result<()> {
        self.execute(schema::RELEASE_LEASE, params![name, owner]).map(drop)
    }

    fn forget(&mut self, sql: &'static str, ns: &str, value: &str) -> Result<u64> {
        Ok(self.execute(sql, params![ns, value])? as u64)
    }
}
