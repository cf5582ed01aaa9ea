//! Work beside the requests: sending replies (and queueing what may go later, durably), the retry queue, and the
//! expiry scheduler that refreshes tokens and stores owner notices as `owner-notice` events.

use crate::bindings::expiry::Link;
use crate::bindings::outbound::{DeliveryStatus, Reply, Retry, SendPlan};
use crate::harness::CallError;
use crate::journal::{Queued, Submitted};
use crate::now_ms;
use crate::retry::{Outcome, first_failure};
use crate::serve::App;
use crate::{journal, outbound_json};
use anyhow::Result;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(crate) struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts the retry-queue worker and the expiry scheduler.
pub(crate) fn start(app: Arc<App>) -> Background {
    let (stop, stopped) = watch::channel(false);
    let every = |period, work: fn(&App)| {
        let (app, mut stopped) = (app.clone(), stopped.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = stopped.changed() => return,
                }
                let app = app.clone();
                let _ = tokio::task::spawn_blocking(move || work(&app)).await;
            }
        })
    };
    let tasks = vec![every(app.config.outbox_every, drain_outbox), every(app.config.expiry_every, run_expiry)];
    Background { stop, tasks }
}

/// Queues a reply durably first, then sends it at once from this node under a lease, as the retry queue would,
/// so a node that dies mid-send leaves it to another node and nothing is lost. A reply submitted again with the
/// same `request_key` (the client's `Idempotency-Key`, after a lost answer) is found, not sent twice. The answer
/// is the first attempt's: sent (200), failed for good (200, `ok: false`), or queued for a retry (202).
pub(crate) fn send_now(app: &App, reply: &Reply, request_key: Option<&str>) -> Result<(StatusCode, Value)> {
    let (harness, config) = (&app.harness, &app.config);
    let plan = match harness.validate_reply(reply) {
        Ok(plan) => plan,
        Err(CallError::Invalid(errors)) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, outbound_json::invalid(&errors)));
        }
        Err(other) => return Err(anyhow::anyhow!("{:?}", other.to_error_info())),
    };
    let (database, namespace) = (harness.database(), harness.namespace());
    let stored = outbound_json::stored_plan(&plan);
    let (id, sent) = match journal::submit(database, namespace, &stored, request_key, &config.node, config.lease)? {
        Submitted::Leased(item) => (item.id, send_claimed(app, item)?),
        Submitted::Existing(id) => (id, None),
    };
    let Some((status, deliveries)) = sent else {
        // Submitted before, or taken by another node: where it stands, and nothing sent from here.
        let stored = stored_reply(app, id)?.unwrap_or_else(|| json!({"id": id}));
        return Ok((StatusCode::OK, stored));
    };
    let mut answer = json!({"ok": status != "failed", "id": id, "status": status, "deliveries": deliveries});
    if status == "pending" {
        answer["status"] = json!("queued");
        answer["queued"] = json!(id);
        return Ok((StatusCode::ACCEPTED, answer));
    }
    Ok((StatusCode::OK, answer))
}

/// A queued reply's status, attempts and report, as `GET /api/messages/ID` shows them.
pub(crate) fn stored_reply(app: &App, id: i64) -> Result<Option<Value>> {
    let row = journal::outbox_status(app.harness.database(), app.harness.namespace(), id)?;
    Ok(row.map(|(status, attempts, report)| {
        let report: Value = report.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default();
        json!({"id": id, "status": status, "attempts": attempts, "report": report})
    }))
}

/// Sends what is due in the retry queue and this node could claim; each item ends sent, failed (reported), or
/// pending with a later time. Other nodes skip what this one claimed until its lease runs out.
fn drain_outbox(app: &App) {
    let (harness, config) = (&app.harness, &app.config);
    let claimed = journal::claim(harness.database(), harness.namespace(), &config.node, now_ms(), config.lease, 16);
    match claimed {
        Ok(claimed) => {
            for item in claimed {
                if let Err(e) = send_claimed(app, item) {
                    tracing::error!("sending a queued reply: {e:#}");
                }
            }
        }
        Err(e) => tracing::error!("claiming from the retry queue: {e:#}"),
    }
}

/// Sends a claimed reply one message at a time. Before each send the message is marked in flight, together with
/// what remains of the plan, so a node that dies mid-send leaves a trace: the node that takes the reply over
/// reports that message's outcome as unknown instead of sending it again (the Graph may have accepted it, and
/// the customer must not see it twice). Every message ends in the report; nothing is dropped silently.
/// Gives how it settled (`sent`, `pending`, `failed` or `unknown`) and the report; none when the claim was lost.
fn send_claimed(app: &App, mut item: Queued) -> Result<Option<(&'static str, Value)>> {
    let (harness, config) = (&app.harness, &app.config);
    let (database, namespace, node) = (harness.database(), harness.namespace(), config.node.as_str());
    let settle = |item: &Queued, status: &str, next: u64, report: &Value| {
        if !journal::settle(database, namespace, item, node, status, next, report)? {
            tracing::warn!(id = item.id, "another node took this reply over before it was settled");
        }
        anyhow::Ok(())
    };
    let Some(mut plan) = outbound_json::plan_from_stored(&item.plan) else {
        let report = json!([{"status": "failed", "error": {"code": "unreadable-plan"}}]);
        settle(&item, "failed", 0, &report)?;
        return Ok(Some(("failed", report)));
    };
    let mut report = Vec::new();
    let unknown = item.in_flight && !plan.messages.is_empty();
    if unknown {
        plan.messages.remove(0);
        report.push(json!({"status": "unknown", "attempts": item.attempts + 1, "error": {"code": "unknown-outcome",
            "message": "the node sending this message stopped before Graph answered; it was not sent again"}}));
    }
    item.attempts += 1;
    let mut outcomes = Vec::new();
    while !plan.messages.is_empty() {
        item.plan = outbound_json::stored_plan(&plan);
        if !journal::mark_in_flight(database, namespace, &item, node)? {
            tracing::warn!(id = item.id, "lost the claim on a queued reply; its new holder sends it");
            return Ok(None);
        }
        let one = SendPlan { messages: plan.messages[..1].to_vec(), ..plan.clone() };
        let status = harness.send_plan(&one, now_ms()).map_err(|e| anyhow::anyhow!("{:?}", e.to_error_info()))?;
        let status = status.into_iter().next().unwrap_or(DeliveryStatus::NotAttempted);
        let accepted = matches!(status, DeliveryStatus::Sent(_));
        outcomes.push(Outcome { status, attempts: item.attempts });
        if !accepted {
            break;
        }
        plan.messages.remove(0);
    }
    item.plan = outbound_json::stored_plan(&plan);
    report.extend(outbound_json::deliveries(&outcomes).as_array().cloned().unwrap_or_default());
    let report = Value::Array(report);
    let (status, next) = match first_failure(&outcomes) {
        // Everything else went out, but one message may or may not have: the reply says so.
        None if unknown => ("unknown", 0),
        None => ("sent", 0),
        Some((_, Retry::Later | Retry::Now)) if item.attempts < config.retry.max_attempts => {
            ("pending", now_ms() + config.retry.backoff(item.attempts).as_millis() as u64)
        }
        Some(_) => ("failed", 0),
    };
    settle(&item, status, next, &report)?;
    Ok(Some((status, report)))
}

/// Evaluates every linked account: refreshes what should be, and stores each owner notice once per period. One
/// node at a time runs it (a lease row); and a notice is stored only if the last-notice time it was decided on is
/// still the stored one, so even two runs at once store it once.
fn run_expiry(app: &App) {
    let (harness, config) = (&app.harness, &app.config);
    let (database, namespace) = (harness.database(), harness.namespace());
    match journal::take_lease(database, namespace, "expiry-scheduler", &config.node, config.lease) {
        Ok(true) => {}
        Ok(false) => return tracing::debug!("another node runs the expiry scheduler"),
        Err(e) => return tracing::error!("taking the expiry scheduler's lease: {e:#}"),
    }
    let accounts = match harness.list_accounts() {
        Ok(accounts) => accounts,
        Err(e) => return tracing::error!("listing accounts: {:?}", e.to_error_info()),
    };
    for account in accounts {
        let now = now_ms();
        let last_notice = match journal::last_notice(database, namespace, &account.account_id) {
            Ok(at) => at,
            Err(e) => {
                tracing::error!("reading when owners were last told: {e:#}");
                continue;
            }
        };
        let link = Link {
            now,
            linked_at: account.linked_at,
            token_expires_at: Some(account.token_expires_at),
            last_notice_at: last_notice,
            owners: config.owners.clone(),
            last_error: account.last_error,
            last_error_at: account.last_error_at,
            language: config.language.clone(),
            login: Some(account.login),
        };
        let Ok(decision) = harness.evaluate_link(&link) else { continue };
        if decision.refresh
            && let Err(e) = harness.refresh_token(&account.account_id, now)
        {
            tracing::warn!(account = %account.account_id, code = %e.to_error_info().code, "token refresh failed; the notice path still runs");
        }
        if decision.notify.is_empty() {
            continue;
        }
        let notice = json!({"account-id": account.account_id, "kind": "owner-notice", "notify": decision.notify,
            "notice": decision.notice, "reason": decision.reason, "expires-at": messenger_core::time::format_rfc3339(decision.expires_at)});
        match journal::store_notice(database, namespace, &account.account_id, last_notice, now, &notice) {
            Ok(true) => tracing::info!(account = %account.account_id, "owner notice stored"),
            Ok(false) => tracing::info!(account = %account.account_id, "owner notice already stored by another node"),
            Err(e) => tracing::error!("storing an owner notice: {e:#}"),
        }
    }
}
