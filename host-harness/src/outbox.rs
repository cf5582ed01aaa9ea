//! The durable reply queue. A reply is queued first (already leased to the node that sends it at once), then sent
//! one message at a time, each marked in flight with what remains of the plan; settled `sent`, `failed`,
//! `unknown` or `pending` again with a due time. Nodes claim due replies under leases, so no accepted message
//! is sent twice and a node that dies leaves its replies to the others. The rows store the core's `SendPlan` as
//! it serializes. Nothing here knows of HTTP: the server maps these results to its answers.

use crate::clock::now_ms;
use crate::harness::{CallError, Harness, Outcome, RetryPolicy, first_failure};
use crate::store::journal::lease_until;
use crate::store::sql_time;
use crate::store::{Claim, ClaimedRow, Database, Namespace, NewReply, Settlement};
use anyhow::Result;
use messenger_core::ConnectorError;
use messenger_core::outbound::{DeliveryStatus, Retry, SendPlan};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Where a queued reply stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyStatus {
    /// Waiting for its due time (a retry), or being sent.
    Pending,
    /// Every message was accepted by Graph.
    Sent,
    /// A message was refused for good, or the retries ran out.
    Failed,
    /// Everything else went, but one message's outcome is unknown: its node died mid-request.
    Unknown,
}

impl ReplyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }
}

/// One line of a reply's report: a message's outcome, or one whose outcome is unknown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ReportLine {
    Delivered(Outcome),
    /// Its node died while sending it: Graph may or may not have it (`status` is `unknown`).
    Unknown {
        #[schema(schema_with = unknown_status)]
        status: ReplyStatus,
        attempts: u32,
        error: ConnectorError,
    },
}

/// The one status a line of an unknown outcome has (`unknown`): what tells it from a delivered line.
fn unknown_status() -> utoipa::openapi::Object {
    let unknown = ReplyStatus::Unknown.as_str();
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some([unknown]))
        .build()
}

/// A queued reply claimed by this node: what remains of its plan, and how it went so far.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub plan: SendPlan,
    pub attempts: u32,
    /// The send of the plan's first message was started by a node that died before recording its outcome.
    pub in_flight: bool,
}

/// A reply submitted to be sent at once.
pub enum Submitted {
    /// Queued now and leased to this node, which sends it.
    Leased(Queued),
    /// Queued before with the same request key (the client's idempotency key): its id; nothing to send.
    Existing(i64),
}

/// A queued reply's row, as `GET /api/messages/ID` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredReply {
    pub id: i64,
    pub status: ReplyStatus,
    pub attempts: u32,
    /// One line per message once an attempt settled; null before.
    #[schema(value_type = Option<Vec<ReportLine>>, required)]
    pub report: Value,
}

/// A finished attempt at a reply: how it settled and its report.
#[derive(Debug, Clone)]
pub struct Settled {
    pub status: ReplyStatus,
    pub report: Vec<ReportLine>,
}

/// How much the queue may hold. Past `max_pending` replies (or `max_pending_bytes` of plans) still to send, a new
/// reply is refused (`QueueFull`; serve answers 503) instead of the store growing without bound; replies settled
/// for good keep only their report, and are deleted `retention` after they settled.
#[derive(Debug, Clone, Copy)]
pub struct QueueLimits {
    pub max_pending: u64,
    pub max_pending_bytes: u64,
    pub retention: Duration,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self { max_pending: 10_000, max_pending_bytes: 64 << 20, retention: Duration::from_secs(7 * 86_400) }
    }
}

/// The queue holds as much as it may: nothing was queued.
#[derive(Debug)]
pub struct QueueFull(pub String);

impl std::fmt::Display for QueueFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the reply queue is full ({}); retry later", self.0)
    }
}

impl std::error::Error for QueueFull {}

/// Whether `error` is the queue refusing a reply for being full.
pub fn is_full(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<QueueFull>())
}

/// The queue of one channel, as one node sees it.
#[derive(Clone)]
pub struct Outbox {
    database: Database,
    namespace: Namespace,
    node: String,
    lease: Duration,
    limits: QueueLimits,
}

impl Outbox {
    /// `node` names this process in claims; `lease` is how long a claim is its own (longer than any send).
    pub fn new(database: Database, namespace: Namespace, node: impl Into<String>, lease: Duration) -> Self {
        Self { database, namespace, node: node.into(), lease, limits: QueueLimits::default() }
    }

    /// The channel whose queue this is.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    pub fn with_limits(self, limits: QueueLimits) -> Self {
        Self { limits, ..self }
    }

    /// Deletes the replies settled longer ago than the retention period; how many.
    pub fn purge(&self, now: u64) -> Result<u64> {
        let before = sql_time(now.saturating_sub(self.limits.retention.as_millis() as u64));
        self.database.transaction(&self.namespace, |s| s.journal(|tx, ns| tx.purge_settled(ns, before)))
    }

    /// Queues a reply due at `next_attempt_at`, and gives its id.
    pub fn enqueue(&self, plan: &SendPlan, next_attempt_at: u64) -> Result<i64> {
        Ok(self.insert(plan, sql_time(next_attempt_at), None, None)?.0)
    }

    /// Queues a reply leased to this node from the start, so no other node's worker takes it while this one sends
    /// it; or finds the reply already queued with the same `request_key`.
    pub fn submit(&self, plan: &SendPlan, request_key: Option<&str>) -> Result<Submitted> {
        let now = now_ms();
        let lease = Some((self.node.as_str(), lease_until(now, self.lease)));
        let (id, new) = self.insert(plan, sql_time(now), request_key, lease)?;
        let queued = Queued { id, plan: plan.clone(), attempts: 0, in_flight: false };
        Ok(if new { Submitted::Leased(queued) } else { Submitted::Existing(id) })
    }

    fn insert(
        &self,
        plan: &SendPlan,
        next_attempt_at: i64,
        request_key: Option<&str>,
        lease: Option<(&str, i64)>,
    ) -> Result<(i64, bool)> {
        let plan = serde_json::to_string(plan)?;
        let reply = NewReply { plan: &plan, next_attempt_at, request_key, lease };
        let limits = self.limits;
        self.database.transaction(&self.namespace, |s| {
            s.journal(|tx, ns| {
                if let Some(key) = request_key
                    && let Some(id) = tx.enqueued_by_key(ns, key)?
                {
                    return Ok((id, false));
                }
                let (rows, bytes) = tx.pending_load(ns)?;
                if rows >= limits.max_pending || bytes.saturating_add(plan.len() as u64) > limits.max_pending_bytes {
                    return Err(QueueFull(format!("{rows} replies, {bytes} bytes pending")).into());
                }
                Self::enqueue_row(tx, ns, &reply, request_key)
            })
        })
    }

    fn enqueue_row(
        tx: &mut dyn crate::store::JournalTransaction,
        ns: &str,
        reply: &NewReply,
        request_key: Option<&str>,
    ) -> Result<(i64, bool)> {
        match (tx.enqueue(ns, reply)?, request_key) {
            (Some(id), _) => Ok((id, true)),
            (None, Some(key)) => {
                let id = tx.enqueued_by_key(ns, key)?;
                Ok((id.ok_or_else(|| anyhow::anyhow!("a reply keyed {key:?} vanished while queueing"))?, false))
            }
            (None, None) => anyhow::bail!("queueing a reply inserted nothing"),
        }
    }

    /// Claims up to `limit` replies due at `now`: no other node sends them until the lease runs out. A row whose
    /// plan cannot be read is settled `failed` (`unreadable-plan`) here, not handed out.
    pub fn claim(&self, now: u64, limit: usize) -> Result<Vec<Queued>> {
        let claim = Claim { now: sql_time(now), holder: &self.node, lease_until: lease_until(now, self.lease), limit };
        let rows = self.database.transaction(&self.namespace, |s| s.journal(|tx, ns| tx.claim_due(ns, &claim)))?;
        let mut claimed = Vec::new();
        for ClaimedRow { id, plan, attempts, in_flight } in rows {
            match serde_json::from_str(&plan) {
                Ok(plan) => claimed.push(Queued { id, plan, attempts, in_flight }),
                Err(e) => {
                    let error = ConnectorError::new("unreadable-plan", format!("the stored plan does not read: {e}"));
                    let line = ReportLine::Unknown { status: ReplyStatus::Failed, attempts, error };
                    self.settle_row(id, &plan, attempts, ReplyStatus::Failed, 0, &[line])?;
                }
            }
        }
        Ok(claimed)
    }

    /// Records, before a send, what remains of the plan and that its first message is in flight; false when this
    /// node lost its lease.
    pub fn mark_in_flight(&self, item: &Queued) -> Result<bool> {
        let plan = serde_json::to_string(&item.plan)?;
        self.database.transaction(&self.namespace, |s| s.journal(|tx, _| tx.mark_in_flight(item.id, &self.node, &plan)))
    }

    /// Records how a claimed reply went (`pending` again with what remains and when to try, `sent`, `failed` or
    /// `unknown`) and gives the lease back. False when this node no longer held it: another took it over.
    pub fn settle(
        &self,
        item: &Queued,
        status: ReplyStatus,
        next_attempt_at: u64,
        report: &[ReportLine],
    ) -> Result<bool> {
        let plan = serde_json::to_string(&item.plan)?;
        self.settle_row(item.id, &plan, item.attempts, status, next_attempt_at, report)
    }

    fn settle_row(
        &self,
        id: i64,
        plan: &str,
        attempts: u32,
        status: ReplyStatus,
        next_attempt_at: u64,
        report: &[ReportLine],
    ) -> Result<bool> {
        let report = serde_json::to_string(report)?;
        // Settled for good, a reply keeps its report only: its text is no longer needed, nor kept.
        let (plan, settled_at) = match status {
            ReplyStatus::Pending => (plan, None),
            _ => ("{}", Some(sql_time(now_ms()))),
        };
        let settlement =
            Settlement { status: status.as_str(), plan, attempts, next_attempt_at, report: &report, settled_at };
        self.database.transaction(&self.namespace, |s| s.journal(|tx, _| tx.settle(id, &self.node, &settlement)))
    }

    /// How many replies of this channel are queued and not settled.
    pub fn pending_count(&self) -> Result<u64> {
        self.database.read(&self.namespace, |s| s.journal(|tx, ns| tx.pending_load(ns)).map(|(rows, _)| rows))
    }

    /// A queued reply's status, attempts and report.
    pub fn status(&self, id: i64) -> Result<Option<StoredReply>> {
        let row = self.database.read(&self.namespace, |s| s.journal(|tx, ns| tx.outbox_status(ns, id)))?;
        let Some((status, attempts, report)) = row else { return Ok(None) };
        let status = serde_json::from_value(Value::String(status.clone()))
            .map_err(|_| anyhow::anyhow!("reply {id} has an unknown status {status:?}"))?;
        let report = report.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default();
        Ok(Some(StoredReply { id, status, attempts, report }))
    }

    /// Sends a claimed reply one message at a time. Before each send the message is marked in flight, together
    /// with what remains of the plan, so a node that dies mid-send leaves a trace: the node that takes the reply
    /// over reports that message's outcome as unknown instead of sending it again (Graph may have accepted it, and
    /// the customer must not see it twice). Every message ends in the report; nothing is dropped silently.
    /// None when the claim was lost.
    pub fn send(&self, harness: &Harness, mut item: Queued, policy: &RetryPolicy) -> Result<Option<Settled>> {
        let mut report = Vec::new();
        let unknown = item.in_flight && !item.plan.messages.is_empty();
        if unknown {
            item.plan.messages.remove(0);
            let error = ConnectorError::new(
                "unknown-outcome",
                "the node sending this message stopped before Graph answered; it was not sent again",
            );
            report.push(ReportLine::Unknown { status: ReplyStatus::Unknown, attempts: item.attempts + 1, error });
        }
        item.attempts += 1;
        let mut outcomes = Vec::new();
        while !item.plan.messages.is_empty() {
            if !self.mark_in_flight(&item)? {
                tracing::warn!(id = item.id, "lost the claim on a queued reply; its new holder sends it");
                return Ok(None);
            }
            let one = SendPlan { messages: item.plan.messages[..1].to_vec(), ..item.plan.clone() };
            let status = harness.send_plan(&one, now_ms()).map_err(call_failed)?;
            let status = status.into_iter().next().unwrap_or(DeliveryStatus::NotAttempted);
            let accepted = status.succeeded();
            outcomes.push(Outcome { status, attempts: item.attempts });
            if !accepted {
                break;
            }
            item.plan.messages.remove(0);
        }
        let (status, next) = match first_failure(&outcomes) {
            // Everything else went out, but one message may or may not have: the reply says so.
            None if unknown => (ReplyStatus::Unknown, 0),
            None => (ReplyStatus::Sent, 0),
            Some((_, Retry::Later | Retry::Now)) if item.attempts < policy.max_attempts => {
                (ReplyStatus::Pending, now_ms() + policy.backoff(item.attempts).as_millis() as u64)
            }
            Some(_) => (ReplyStatus::Failed, 0),
        };
        report.extend(outcomes.into_iter().map(ReportLine::Delivered));
        if !self.settle(&item, status, next, &report)? {
            tracing::warn!(id = item.id, "another node took this reply over before it was settled");
        }
        Ok(Some(Settled { status, report }))
    }
}

fn call_failed(error: CallError) -> anyhow::Error {
    anyhow::anyhow!("{:?}", error.to_error_info())
}

/// What became of a reply submitted to be sent at once.
pub enum Handled {
    /// This node sent it now: how it settled.
    Sent { id: i64, settled: Settled },
    /// Submitted before under the same key, or taken over by another node: where it stands (none if it vanished).
    Found { id: i64, stored: Option<StoredReply> },
}

impl Outbox {
    /// Queues a reply durably first, then sends it at once from this node under its lease, as the retry worker
    /// would; a reply submitted again with the same `request_key` is found, not sent twice.
    pub fn submit_and_send(
        &self,
        harness: &Harness,
        plan: &SendPlan,
        request_key: Option<&str>,
        policy: &RetryPolicy,
    ) -> Result<Handled> {
        let (id, settled) = match self.submit(plan, request_key)? {
            Submitted::Leased(item) => (item.id, self.send(harness, item, policy)?),
            Submitted::Existing(id) => (id, None),
        };
        Ok(match settled {
            Some(settled) => Handled::Sent { id, settled },
            None => Handled::Found { id, stored: self.status(id)? },
        })
    }

    /// Sends what is due and this node could claim; each item ends sent, failed (reported), unknown, or pending
    /// with a later time. Other nodes skip what this one claimed until its lease runs out.
    pub fn drain(&self, harness: &Harness, policy: &RetryPolicy, limit: usize) -> Result<()> {
        for item in self.claim(now_ms(), limit)? {
            if let Err(e) = self.send(harness, item, policy) {
                tracing::error!("sending a queued reply: {e:#}");
            }
        }
        Ok(())
    }
}
