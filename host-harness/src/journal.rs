//! The host's durable records beside the plugin's key-value space: deliveries with their events (written in the
//! same transaction as the plugin's dedup marks, so a 200 means both are committed), the outbound retry queue
//! with its leases, owner notices, and named leases for work that one node at a time should do.

use crate::storage::{Claim, ClaimedRow, Database, Namespace, NewReply, Session, Settlement};
use anyhow::Result;
use messenger_core::events::{EventKind, InboxEvent, SkipReason};
use serde_json::Value;
use std::time::Duration;

/// Stores a delivery and its events in `session`'s transaction.
pub fn record_delivery(session: &Session, received_at: u64, body: &[u8], events: &[InboxEvent]) -> Result<()> {
    // A redelivery's `duplicate` is not an inbox event: the original was stored with its first delivery.
    let duplicate = |e: &&InboxEvent| matches!(&e.kind, EventKind::Skipped(s) if s.reason == SkipReason::Duplicate);
    let events = events.iter().filter(|e| !duplicate(e)).map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    session.with(|tx, ns| {
        let delivery = tx.insert_delivery(ns, sql_time(received_at), body)?;
        events.iter().try_for_each(|event| tx.insert_event(ns, Some(delivery), event))
    })
}

/// Every stored event, oldest first.
pub fn events(database: &Database, namespace: &Namespace) -> Result<Vec<Value>> {
    let rows = database.transaction(namespace, |s| s.with(|tx, ns| tx.events(ns)))?;
    rows.iter().map(|json| Ok(serde_json::from_str(json)?)).collect()
}

/// A queued reply claimed by this node: what remains of a plan, and how it went so far.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub plan: Value,
    pub attempts: u32,
    /// The send of the plan's first message was started by a node that died before recording its outcome.
    pub in_flight: bool,
}

/// Queues a reply due at `next_attempt_at`, and gives its id.
pub fn enqueue(database: &Database, namespace: &Namespace, plan: &Value, next_attempt_at: u64) -> Result<i64> {
    Ok(insert(database, namespace, plan, sql_time(next_attempt_at), None, None)?.0)
}

/// A reply submitted to be sent at once.
pub enum Submitted {
    /// Queued now and leased to this node, which sends it.
    Leased(Queued),
    /// Queued before with the same request key (the client's idempotency key): its id; nothing to send.
    Existing(i64),
}

/// Queues a reply leased to `node` for `lease` from the start, so no other node's worker takes it while `node`
/// sends it; or finds the reply already queued with the same `request_key`.
pub fn submit(
    database: &Database,
    namespace: &Namespace,
    plan: &Value,
    request_key: Option<&str>,
    node: &str,
    lease: Duration,
) -> Result<Submitted> {
    let now = crate::now_ms();
    let lease = Some((node, lease_until(now, lease)));
    let (id, new) = insert(database, namespace, plan, sql_time(now), request_key, lease)?;
    let queued = Queued { id, plan: plan.clone(), attempts: 0, in_flight: false };
    Ok(if new { Submitted::Leased(queued) } else { Submitted::Existing(id) })
}

fn insert(
    database: &Database,
    namespace: &Namespace,
    plan: &Value,
    next_attempt_at: i64,
    request_key: Option<&str>,
    lease: Option<(&str, i64)>,
) -> Result<(i64, bool)> {
    let plan = plan.to_string();
    let reply = NewReply { plan: &plan, next_attempt_at, request_key, lease };
    database.transaction(namespace, |s| {
        s.with(|tx, ns| match (tx.enqueue(ns, &reply)?, request_key) {
            (Some(id), _) => Ok((id, true)),
            (None, Some(key)) => {
                let id = tx.enqueued_by_key(ns, key)?;
                Ok((id.ok_or_else(|| anyhow::anyhow!("a reply keyed {key:?} vanished while queueing"))?, false))
            }
            (None, None) => anyhow::bail!("queueing a reply inserted nothing"),
        })
    })
}

/// Claims up to `limit` due replies for `node` for `lease`: no other node sends them until the lease runs out.
pub fn claim(
    database: &Database,
    namespace: &Namespace,
    node: &str,
    now: u64,
    lease: Duration,
    limit: usize,
) -> Result<Vec<Queued>> {
    let claim = claim_for(node, now, lease, limit);
    let rows = database.transaction(namespace, |s| s.with(|tx, ns| tx.claim_due(ns, &claim)))?;
    rows.into_iter().map(queued).collect()
}

fn claim_for(node: &str, now: u64, lease: Duration, limit: usize) -> Claim<'_> {
    Claim { now: sql_time(now), holder: node, lease_until: lease_until(now, lease), limit }
}

fn queued(ClaimedRow { id, plan, attempts, in_flight }: ClaimedRow) -> Result<Queued> {
    Ok(Queued { id, plan: serde_json::from_str(&plan)?, attempts, in_flight })
}

/// Records, before a send, what remains of the plan and that its first message is in flight; false when `node`
/// lost its lease.
pub fn mark_in_flight(database: &Database, namespace: &Namespace, item: &Queued, node: &str) -> Result<bool> {
    let plan = item.plan.to_string();
    database.transaction(namespace, |s| s.with(|tx, _| tx.mark_in_flight(item.id, node, &plan)))
}

/// Records how a claimed reply went, `pending` again (with what remains and when to try), `sent` or `failed`,
/// and gives the lease back. False when `node` no longer held it: another node took the reply over.
pub fn settle(
    database: &Database,
    namespace: &Namespace,
    item: &Queued,
    node: &str,
    status: &str,
    next_attempt_at: u64,
    report: &Value,
) -> Result<bool> {
    let (plan, report) = (item.plan.to_string(), report.to_string());
    let settlement = Settlement { status, plan: &plan, attempts: item.attempts, next_attempt_at, report: &report };
    database.transaction(namespace, |s| s.with(|tx, _| tx.settle(item.id, node, &settlement)))
}

/// The outbox row's status, attempts and report.
pub fn outbox_status(
    database: &Database,
    namespace: &Namespace,
    id: i64,
) -> Result<Option<(String, u32, Option<String>)>> {
    database.transaction(namespace, |s| s.with(|tx, ns| tx.outbox_status(ns, id)))
}

/// When the account's owners were last told, if ever.
pub fn last_notice(database: &Database, namespace: &Namespace, account_id: &str) -> Result<Option<u64>> {
    let at = database.transaction(namespace, |s| s.with(|tx, ns| tx.last_notice(ns, account_id)))?;
    Ok(at.map(|t| t as u64))
}

/// Stores an owner notice as an event and moves the account's last-notice time from `read` (what the decision
/// was made on) to `at`, together. False, storing nothing, when another node stored it first.
pub fn store_notice(
    database: &Database,
    namespace: &Namespace,
    account_id: &str,
    read: Option<u64>,
    at: u64,
    event: &Value,
) -> Result<bool> {
    let event = event.to_string();
    database.transaction(namespace, |s| {
        s.with(|tx, ns| {
            let first = tx.swap_notice(ns, account_id, read.map(sql_time), sql_time(at))?;
            if first {
                tx.insert_event(ns, None, &event)?;
            }
            Ok(first)
        })
    })
}

/// Takes (or renews) the named lease for `node` for `lease`; false while another node holds it.
pub fn take_lease(database: &Database, namespace: &Namespace, name: &str, node: &str, lease: Duration) -> Result<bool> {
    let now = crate::now_ms();
    let (name, until) = (format!("{}/{name}", namespace.as_str()), lease_until(now, lease));
    database.transaction(namespace, |s| s.with(|tx, _| tx.take_lease(&name, node, sql_time(now), until)))
}

/// When a lease taken at `now` for `lease` runs out.
fn lease_until(now: u64, lease: Duration) -> i64 {
    sql_time(now.saturating_add(lease.as_millis() as u64))
}

/// Database integers are signed: later than i64::MAX is "never", not negative.
fn sql_time(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}
