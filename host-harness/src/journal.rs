//! The host's durable records beside the plugin's key-value space: deliveries with their events (written in the
//! same transaction as the plugin's dedup marks, so a 200 means both are on disk), the outbound retry queue, and
//! when owners were last told about each account.

use crate::storage::{Database, Namespace, Session};
use anyhow::Result;
use messenger_core::events::{EventKind, InboxEvent, SkipReason};
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

/// Stores a delivery and its events in `session`'s transaction.
pub fn record_delivery(session: &Session, received_at: u64, body: &[u8], events: &[InboxEvent]) -> Result<()> {
    let conn = session.conn();
    conn.execute(
        "INSERT INTO deliveries (namespace, received_at, body) VALUES (?1, ?2, ?3)",
        params![session.namespace(), received_at as i64, body],
    )?;
    let delivery = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached("INSERT INTO events (namespace, delivery_id, json) VALUES (?1, ?2, ?3)")?;
    // A redelivery's `duplicate` is not an inbox event: the original was stored with its first delivery.
    let duplicate = |e: &&InboxEvent| matches!(&e.kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate);
    for event in events.iter().filter(|e| !duplicate(e)) {
        insert.execute(params![session.namespace(), delivery, serde_json::to_string(event)?])?;
    }
    Ok(())
}

/// Stores one event the host itself produced (an owner notice).
pub fn record_event(session: &Session, event: &Value) -> Result<()> {
    session.conn().execute(
        "INSERT INTO events (namespace, delivery_id, json) VALUES (?1, NULL, ?2)",
        params![session.namespace(), event.to_string()],
    )?;
    Ok(())
}

/// Every stored event, oldest first.
pub fn events(database: &Database, namespace: &Namespace) -> Result<Vec<Value>> {
    let session = database.begin(namespace.clone())?;
    let mut stmt = session.conn().prepare("SELECT json FROM events WHERE namespace = ?1 ORDER BY id")?;
    let rows = stmt.query_map([session.namespace()], |row| row.get::<_, String>(0))?;
    let events = rows.map(|json| Ok(serde_json::from_str(&json?)?)).collect::<Result<Vec<Value>>>()?;
    drop(stmt);
    session.commit()?;
    Ok(events)
}

/// A queued reply: what remains of a plan, and how it went so far.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub plan: Value,
    pub attempts: u32,
}

pub fn enqueue(
    database: &Database,
    namespace: &Namespace,
    plan: &Value,
    attempts: u32,
    next_attempt_at: u64,
) -> Result<i64> {
    let session = database.begin(namespace.clone())?;
    session.conn().execute(
        "INSERT INTO outbox (namespace, plan, status, attempts, next_attempt_at) VALUES (?1, ?2, 'pending', ?3, ?4)",
        params![session.namespace(), plan.to_string(), attempts, sql_time(next_attempt_at)],
    )?;
    let id = session.conn().last_insert_rowid();
    session.commit()?;
    Ok(id)
}

/// Pending replies whose time has come, oldest first.
pub fn due(database: &Database, namespace: &Namespace, now: u64, limit: usize) -> Result<Vec<Queued>> {
    let session = database.begin(namespace.clone())?;
    let mut stmt = session.conn().prepare(
        "SELECT id, plan, attempts FROM outbox WHERE namespace = ?1 AND status = 'pending' AND next_attempt_at <= ?2 ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![session.namespace(), sql_time(now), limit as i64], |row| {
        Ok((row.get(0)?, row.get::<_, String>(1)?, row.get(2)?))
    })?;
    let mut queued = Vec::new();
    for row in rows {
        let (id, plan, attempts) = row?;
        queued.push(Queued { id, plan: serde_json::from_str(&plan)?, attempts });
    }
    drop(stmt);
    session.commit()?;
    Ok(queued)
}

/// Records how a queued reply went: `pending` again (with what remains and when to try), `sent` or `failed`.
pub fn settle(
    database: &Database,
    namespace: &Namespace,
    item: &Queued,
    status: &str,
    next_attempt_at: u64,
    report: &Value,
) -> Result<()> {
    let session = database.begin(namespace.clone())?;
    session.conn().execute(
        "UPDATE outbox SET status = ?2, plan = ?3, attempts = ?4, next_attempt_at = ?5, report = ?6 WHERE id = ?1",
        params![item.id, status, item.plan.to_string(), item.attempts, sql_time(next_attempt_at), report.to_string()],
    )?;
    session.commit()
}

/// The outbox row's status and report.
pub fn outbox_status(
    database: &Database,
    namespace: &Namespace,
    id: i64,
) -> Result<Option<(String, u32, Option<String>)>> {
    let session = database.begin(namespace.clone())?;
    let row = session
        .conn()
        .query_row(
            "SELECT status, attempts, report FROM outbox WHERE id = ?1 AND namespace = ?2",
            params![id, session.namespace()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    session.commit()?;
    Ok(row)
}

/// SQLite integers are signed: later than i64::MAX is "never", not negative.
fn sql_time(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

pub fn last_notice(session: &Session, account_id: &str) -> Result<Option<u64>> {
    let at: Option<i64> = session
        .conn()
        .query_row(
            "SELECT noticed_at FROM notices WHERE namespace = ?1 AND account_id = ?2",
            params![session.namespace(), account_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(at.map(|t| t as u64))
}

pub fn set_notice(session: &Session, account_id: &str, at: u64) -> Result<()> {
    session.conn().execute(
        "INSERT INTO notices (namespace, account_id, noticed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (namespace, account_id) DO UPDATE SET noticed_at = excluded.noticed_at",
        params![session.namespace(), account_id, at as i64],
    )?;
    Ok(())
}
