//! The events feed: stored events in commit order, after an opaque cursor.
//!
//! A cursor is a position `(xid, id)`. On SQLite there is one writer at a time, so ids are given in commit order
//! and `xid` is always 0. On PostgreSQL ids are not: a transaction on one node may take id 11 and commit after
//! another node's id 12, and a reader that had moved past 12 would never see 11. So every event also stores the
//! id of the transaction that wrote it (`pg_current_xact_id()`), the feed is ordered by `(xid, id)`, and only rows
//! whose transaction is older than every transaction still running (`pg_snapshot_xmin`) are handed out: nothing
//! can later commit before a position already read.

use super::{Database, Namespace};
use anyhow::Result;
use serde_json::Value;

/// Where a reader stands in a channel's feed; `Position::START` is before every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub xid: u64,
    pub id: i64,
}

impl Position {
    pub const START: Position = Position { xid: 0, id: 0 };

    /// The opaque text form clients hold (32 hex digits).
    pub fn to_cursor(self) -> String {
        format!("{:016x}{:016x}", self.xid, self.id)
    }

    /// Reads a cursor this server handed out; none for anything else.
    pub fn from_cursor(cursor: &str) -> Option<Position> {
        if cursor.len() != 32 || !cursor.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let xid = u64::from_str_radix(&cursor[..16], 16).ok()?;
        let id = i64::try_from(u64::from_str_radix(&cursor[16..], 16).ok()?).ok()?;
        Some(Position { xid, id })
    }
}

/// One event of the feed: where it stands, and the event as the CLI prints it.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub position: Position,
    /// The channel it belongs to.
    pub channel: String,
    pub event: Value,
}

impl FeedEvent {
    /// The event with its `cursor` and `channel`, as the feed and the push send it.
    pub fn to_json(&self) -> Value {
        let mut event = self.event.clone();
        if let Some(fields) = event.as_object_mut() {
            fields.insert("cursor".into(), Value::String(self.position.to_cursor()));
            fields.insert("channel".into(), Value::String(self.channel.clone()));
        }
        event
    }
}

/// At most `limit` events of `namespace` after `after`, in commit order.
pub fn read(database: &Database, namespace: &Namespace, after: Position, limit: usize) -> Result<Vec<FeedEvent>> {
    let rows = database.transaction(namespace, |s| s.journal(|tx, ns| tx.feed(ns, after, limit)))?;
    let channel = namespace.channel();
    rows.into_iter()
        .map(|(position, json)| {
            Ok(FeedEvent { position, channel: channel.to_owned(), event: serde_json::from_str(&json)? })
        })
        .collect()
}

/// At most `limit` events of every channel after `after`, in commit order (the push's one queue for all channels;
/// each channel's events keep their order in it). `any` names the transaction, not a filter.
pub fn read_all(database: &Database, any: &Namespace, after: Position, limit: usize) -> Result<Vec<FeedEvent>> {
    let rows = database.transaction(any, |s| s.journal(|tx, _| tx.feed_all(after, limit)))?;
    rows.into_iter()
        .map(|(position, ns, json)| {
            let channel = Namespace::parse(&ns)?.channel().to_owned();
            Ok(FeedEvent { position, channel, event: serde_json::from_str(&json)? })
        })
        .collect()
}
