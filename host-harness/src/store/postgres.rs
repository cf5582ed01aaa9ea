//! The shared PostgreSQL backend, for several `serve` nodes: a pool of connections (r2d2), TLS when the server
//! offers it (`pg_tls`; `sslmode=require` in the URL insists on it), prepared statements
//! cached per connection, and the schema migrated at start-up by whichever node comes first.
//!
//! Transactions run at READ COMMITTED. What must hold across nodes is decided by single statements that
//! PostgreSQL serialises on the row: `ON CONFLICT DO NOTHING` for dedup, `UPDATE … WHERE value = expected` for
//! compare-and-swap, `FOR UPDATE SKIP LOCKED` for queue claims.

use super::activity::Window;
use super::feed::Position;
use super::schema::{self, Migration};
use super::{
    Backend, Claim, ClaimedRow, JournalTransaction, KvTransaction, NewDelivery, NewReply, Settlement, Transaction,
};
use anyhow::{Context, Result};
use postgres::types::ToSql;
use postgres::{Client, Statement};
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Any fixed number: the advisory lock that lets one node at a time migrate.
const MIGRATION_LOCK: i64 = 0x6d65_7373_656e_6772;

pub struct Postgres {
    pool: r2d2::Pool<Manager>,
    what: String,
}

impl Postgres {
    pub fn connect(url: &str, connections: usize, root_cert: Option<&std::path::Path>) -> Result<Self> {
        let config: postgres::Config = url.parse().context("reading the PostgreSQL URL")?;
        let what = describe(&config);
        super::pg_tls::check_unverified(&config, root_cert, super::pg_tls::unverified_allowed())?;
        let manager = Manager { config, tls: super::pg_tls::connector(root_cert)? };
        // One connection first, to fail at once with the server's own reason (the pool would retry for seconds).
        let mut first = r2d2::ManageConnection::connect(&manager).with_context(|| format!("connecting to {what}"))?;
        migrate(&mut first.client).with_context(|| format!("migrating the schema of {what}"))?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(connections.max(1) as u32)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .with_context(|| format!("connecting to {what}"))?;
        Ok(Self { pool, what })
    }
}

/// `PostgreSQL host:port/db`, without the user or password.
fn describe(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("PostgreSQL {host}:{port}/{}", config.get_dbname().unwrap_or("(default)"))
}

/// Applies what `schema_migrations` does not list yet, under an advisory lock, in one transaction: nodes that
/// start together wait for each other, and a failed migration leaves nothing half done.
fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT)")?;
    for Migration { version, sql } in schema::POSTGRES_MIGRATIONS {
        let applied = tx.query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])?.is_some();
        if !applied {
            tx.batch_execute(sql).with_context(|| format!("migration {version}"))?;
            tx.execute("INSERT INTO schema_migrations VALUES ($1, $2)", &[version, &(crate::clock::now_ms() as i64)])?;
        }
    }
    Ok(tx.commit()?)
}

/// A pooled connection with its prepared statements.
pub struct Connection {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

pub struct Manager {
    config: postgres::Config,
    tls: MakeRustlsConnect,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection { client: self.config.connect(self.tls.clone())?, statements: HashMap::new() })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed()
    }
}

impl Backend for Postgres {
    /// Reads run in autocommit, one statement each (a component call's reads, the journal's single-statement
    /// reads): no BEGIN and COMMIT round trips around every one.
    fn begin(&self, write: bool) -> Result<Box<dyn Transaction>> {
        let mut conn = self.pool.get().with_context(|| format!("no connection to {}", self.what))?;
        if write {
            conn.client.batch_execute("BEGIN")?;
        }
        Ok(Box::new(PgTx { conn: Some(conn), open: write }))
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}

struct PgTx {
    conn: Option<r2d2::PooledConnection<Manager>>,
    /// A transaction was begun (else each statement commits by itself).
    open: bool,
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgTx {
    fn conn(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a transaction holds its connection until dropped")
    }

    /// The statement for `sql` (SQLite's `?N` numbering, rewritten to `$N`), prepared once per connection.
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        let conn = self.conn();
        if let Some(statement) = conn.statements.get(sql) {
            return Ok(statement.clone());
        }
        let text = sql.replace('?', "$").replace("{lock}", "FOR UPDATE SKIP LOCKED");
        let statement = conn.client.prepare(&text)?;
        conn.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &'static str, params: Params) -> Result<u64> {
        let statement = self.statement(sql)?;
        Ok(self.conn().client.execute(&statement, params)?)
    }

    fn rows(&mut self, sql: &'static str, params: Params) -> Result<Vec<postgres::Row>> {
        let statement = self.statement(sql)?;
        Ok(self.conn().client.query(&statement, params)?)
    }

    fn one<T: for<'r> postgres::types::FromSql<'r>>(&mut self, sql: &'static str, params: Params) -> Result<Option<T>> {
        Ok(self.rows(sql, params)?.first().map(|row| row.try_get(0)).transpose()?)
    }

    fn end(mut self: Box<Self>, how: &str) -> Result<()> {
        let mut conn = self.conn.take().expect("a transaction ends once");
        if !self.open {
            return Ok(());
        }
        Ok(conn.client.batch_execute(how)?)
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // Dropped without commit (a trap, a panic): its writes are discarded before the connection is reused.
        if let Some(conn) = self.conn.as_mut().filter(|_| self.open) {
            let _ = conn.client.batch_execute("ROLLBACK");
        }
    }
}

/// A claimed outbox row, as `RETURNING id, plan, attempts, in_flight` gives it.
fn claimed_row(row: &postgres::Row) -> Result<ClaimedRow, postgres::Error> {
    Ok(ClaimedRow {
        id: row.try_get(0)?,
        plan: row.try_get(1)?,
        attempts: row.try_get::<_, i32>(2)? as u32,
        in_flight: row.try_get(3)?,
    })
}

impl Transaction for PgTx {
    fn commit(self: Box<Self>) -> Result<()> {
        self.end("COMMIT")
    }

    fn rollback(self: Box<Self>) -> Result<()> {
        self.end("ROLLBACK")
    }

    fn kv(&mut self) -> &mut dyn KvTransaction {
        self
    }

    fn journal(&mut self) -> &mut dyn JournalTransaction {
        self
    }
}

impl KvTransaction for PgTx {
    fn get(&mut self, ns: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.one(schema::KV_GET, &[&ns, &key])
    }

    fn upsert(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<()> {
        self.execute(schema::KV_UPSERT, &[&ns, &key, &value, &(crate::clock::now_ms() as i64)]).map(drop)
    }

    fn delete(&mut self, ns: &str, key: &str) -> Result<()> {
        self.execute(schema::KV_DELETE, &[&ns, &key]).map(drop)
    }

    fn insert_if_absent(&mut self, ns: &str, key: &str, value: &[u8]) -> Result<bool> {
        Ok(self.execute(schema::KV_INSERT_IF_ABSENT, &[&ns, &key, &value, &(crate::clock::now_ms() as i64)])? == 1)
    }

    fn insert_all_absent(&mut self, ns: &str, entries: &[(&str, &[u8])]) -> Result<Option<String>> {
        let (keys, values): (Vec<&str>, Vec<&[u8]>) = entries.iter().copied().unzip();
        let now = crate::clock::now_ms() as i64;
        let rows = self.rows(schema::KV_INSERT_ALL_ABSENT_POSTGRES, &[&ns, &keys, &values, &now])?;
        let inserted: Vec<String> = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
        Ok(keys.iter().find(|key| !inserted.iter().any(|k| k == *key)).map(|key| (*key).to_owned()))
    }

    fn replace_if(&mut self, ns: &str, key: &str, expected: &[u8], new: &[u8]) -> Result<bool> {
        Ok(self.execute(schema::KV_REPLACE_IF, &[&ns, &key, &new, &expected, &(crate::clock::now_ms() as i64)])? == 1)
    }

    fn list_keys(&mut self, ns: &str, prefix: &str, after: &str, limit: usize) -> Result<Vec<String>> {
        let rows = self.rows(schema::KV_LIST, &[&ns, &prefix, &after, &(limit as i64)])?;
        Ok(rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
    }
}

impl JournalTransaction for PgTx {
    fn insert_delivery(&mut self, ns: &str, received_at: i64, body: &[u8]) -> Result<i64> {
        Ok(self.one(schema::INSERT_DELIVERY, &[&ns, &received_at, &body])?.expect("RETURNING gives the id"))
    }

    fn insert_event(&mut self, ns: &str, delivery: Option<i64>, json: &str) -> Result<()> {
        self.execute(schema::INSERT_EVENT, &[&ns, &delivery, &json]).map(drop)
    }

    fn insert_delivery_with_events(&mut self, ns: &str, d: &NewDelivery) -> Result<()> {
        let windows = |field: fn(&Window) -> &str| d.windows.iter().map(field).collect::<Vec<&str>>();
        let (window_accounts, customers) = (windows(|w| &w.account), windows(|w| &w.customer));
        let times: Vec<i64> = d.windows.iter().map(|w| w.at).collect();
        let params: Params =
            &[&ns, &d.received_at, &d.body, &d.events, &d.accounts, &window_accounts, &customers, &times];
        self.rows(schema::INSERT_DELIVERY_WITH_EVENTS_POSTGRES, params).map(drop)
    }

    fn events(&mut self, ns: &str) -> Result<Vec<String>> {
        let rows = self.rows(schema::EVENTS, &[&ns])?;
        Ok(rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
    }

    fn feed(&mut self, ns: &str, after: Position, limit: usize) -> Result<Vec<(Position, String)>> {
        let xid = after.xid.to_string();
        let rows = self.rows(schema::FEED_POSTGRES, &[&ns, &xid, &after.id, &(limit as i64)])?;
        let position = |row: &postgres::Row| -> Result<Position> {
            Ok(Position { xid: row.try_get::<_, String>(0)?.parse()?, id: row.try_get(1)? })
        };
        rows.iter().map(|row| Ok((position(row)?, row.try_get(2)?))).collect()
    }

    fn enqueue(&mut self, ns: &str, r: &NewReply) -> Result<Option<i64>> {
        let (holder, until) = (r.lease.map(|l| l.0), r.lease.map(|l| l.1));
        self.one(schema::ENQUEUE, &[&ns, &r.plan, &r.next_attempt_at, &r.request_key, &holder, &until])
    }

    fn enqueued_by_key(&mut self, ns: &str, request_key: &str) -> Result<Option<i64>> {
        self.one(schema::ENQUEUED_BY_KEY, &[&ns, &request_key])
    }

    fn claim_due(&mut self, ns: &str, c: &Claim) -> Result<Vec<ClaimedRow>> {
        let rows = self.rows(schema::CLAIM_DUE, &[&ns, &c.now, &c.holder, &c.lease_until, &(c.limit as i64)])?;
        let mut claimed = rows.iter().map(claimed_row).collect::<Result<Vec<_>, postgres::Error>>()?;
        claimed.sort_by_key(|row| row.id);
        Ok(claimed)
    }

    fn mark_in_flight(&mut self, id: i64, owner: &str, plan: &str) -> Result<bool> {
        Ok(self.execute(schema::MARK_IN_FLIGHT, &[&id, &owner, &plan])? == 1)
    }

    fn settle(&mut self, id: i64, owner: &str, s: &Settlement) -> Result<bool> {
        let (attempts, next) = (s.attempts as i32, i64::try_from(s.next_attempt_at).unwrap_or(i64::MAX));
        let values: Params = &[&id, &owner, &s.status, &s.plan, &attempts, &next, &s.report, &s.settled_at];
        Ok(self.execute(schema::SETTLE, values)? == 1)
    }

    fn outbox_status(&mut self, ns: &str, id: i64) -> Result<Option<(String, u32, Option<String>)>> {
        let rows = self.rows(schema::OUTBOX_STATUS, &[&id, &ns])?;
        let Some(row) = rows.first() else { return Ok(None) };
        Ok(Some((row.try_get(0)?, row.try_get::<_, i32>(1)? as u32, row.try_get(2)?)))
    }

    fn touch_account(&mut self, ns: &str, account: &str, at: i64) -> Result<()> {
        self.execute(schema::TOUCH_ACCOUNT, &[&ns, &account, &at]).map(drop)
    }

    fn touch_customer(&mut self, ns: &str, account: &str, customer: &str, at: i64) -> Result<()> {
        self.execute(schema::TOUCH_CUSTOMER, &[&ns, &account, &customer, &at]).map(drop)
    }

    fn last_webhook(&mut self, ns: &str, account: &str) -> Result<Option<i64>> {
        Ok(self.one::<Option<i64>>(schema::LAST_WEBHOOK, &[&ns, &account])?.flatten())
    }

    fn last_customer_message(&mut self, ns: &str, account: &str, customer: &str) -> Result<Option<i64>> {
        Ok(self.one::<Option<i64>>(schema::LAST_CUSTOMER_MESSAGE, &[&ns, &account, &customer])?.flatten())
    }

    fn prune(&mut self, sql: &'static str, ns: &str, before: i64) -> Result<u64> {
        self.execute(sql, &[&ns, &before])
    }

    fn feed_all(&mut self, after: Position, limit: usize) -> Result<Vec<(Position, String, String)>> {
        let xid = after.xid.to_string();
        let rows = self.rows(schema::FEED_ALL_POSTGRES, &[&xid, &after.id, &(limit as i64)])?;
        let read = |row: &postgres::Row| -> Result<(Position, String, String)> {
            let position = Position { xid: row.try_get::<_, String>(0)?.parse()?, id: row.try_get(1)? };
            Ok((position, row.try_get(2)?, row.try_get(3)?))
        };
        rows.iter().map(read).collect()
    }

    fn claim_route(&mut self, ns: &str, account: &str, at: i64) -> Result<bool> {
        Ok(self.execute(schema::CLAIM_ROUTE, &[&ns, &account, &at])? == 1)
    }

    fn release_route(&mut self, ns: &str, account: &str) -> Result<()> {
        self.execute(schema::RELEASE_ROUTE, &[&ns, &account]).map(drop)
    }

    fn route_of(&mut self, account: &str) -> Result<Option<String>> {
        self.one(schema::ROUTE_OF, &[&account])
    }

    fn channels(&mut self) -> Result<Vec<String>> {
        self.rows(schema::CHANNELS_KNOWN, &[])?.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    fn channels_due(&mut self, now: i64) -> Result<Vec<String>> {
        self.rows(schema::CHANNELS_DUE, &[&now])?.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    fn channel_settings(&mut self, ns: &str) -> Result<Option<String>> {
        self.one(schema::CHANNEL_SETTINGS, &[&ns])
    }

    fn set_channel_settings(&mut self, ns: &str, json: &str) -> Result<()> {
        self.execute(schema::SET_CHANNEL_SETTINGS, &[&ns, &json]).map(drop)
    }

    fn pending_load(&mut self, ns: &str) -> Result<(u64, u64)> {
        let rows = self.rows(schema::PENDING_LOAD, &[&ns])?;
        let row = rows.first().context("count(*) gives a row")?;
        Ok((row.try_get::<_, i64>(0)? as u64, row.try_get::<_, i64>(1)? as u64))
    }

    fn purge_settled(&mut self, ns: &str, before: i64) -> Result<u64> {
        self.execute(schema::PURGE_SETTLED, &[&ns, &before])
    }

    fn last_notice(&mut self, ns: &str, account: &str) -> Result<Option<i64>> {
        self.one(schema::LAST_NOTICE, &[&ns, &account])
    }

    fn insert_notice(&mut self, ns: &str, account: &str, at: i64) -> Result<bool> {
        Ok(self.execute(schema::FIRST_NOTICE, &[&ns, &account, &at])? == 1)
    }

    fn replace_notice(&mut self, ns: &str, account: &str, expected: i64, at: i64) -> Result<bool> {
        Ok(self.execute(schema::NEXT_NOTICE, &[&ns, &account, &at, &expected])? == 1)
    }

    fn take_lease(&mut self, name: &str, owner: &str, now: i64, until: i64) -> Result<bool> {
        Ok(self.execute(schema::TAKE_LEASE, &[&name, &owner, &now, &until])? == 1)
    }

    fn release_lease(&mut self, name: &str, owner: &str) -> Result<()> {
        self.execute(schema::RELEASE_LEASE, &[&name, &owner]).map(drop)
    }

    fn forget(&mut self, sql: &'static str, ns: &str, value: &str) -> Result<u64> {
        self.execute(sql, &[&ns, &value])
    }
}
