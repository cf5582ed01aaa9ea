//! Work beside the requests: sending replies (and queueing what may go later, durably), the retry queue, and the
//! expiry scheduler that refreshes tokens and stores owner notices as `owner-notice` events.

use crate::bindings::expiry::Link;
use crate::bindings::outbound::{DeliveryStatus, Reply, Retry, SendPlan};
use crate::harness::CallError;
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

/// Validates and sends a reply once; a retryable failure queues the rest of the plan durably.
pub(crate) fn send_now(app: &App, reply: &Reply) -> Result<(StatusCode, Value)> {
    let harness = &app.harness;
    let plan = match harness.validate_reply(reply) {
        Ok(plan) => plan,
        Err(CallError::Invalid(errors)) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, outbound_json::invalid(&errors)));
        }
        Err(other) => return Err(anyhow::anyhow!("{:?}", other.to_error_info())),
    };
    let statuses = harness.send_plan(&plan, now_ms()).map_err(|e| anyhow::anyhow!("{:?}", e.to_error_info()))?;
    let outcomes: Vec<Outcome> = statuses
        .into_iter()
        .map(|status| Outcome { attempts: u32::from(status != DeliveryStatus::NotAttempted), status })
        .collect();
    let mut report = json!({"ok": true, "deliveries": outbound_json::deliveries(&outcomes)});
    match first_failure(&outcomes) {
        None => report["status"] = json!("sent"),
        Some((index, Retry::Later | Retry::Now)) => {
            let rest = SendPlan { messages: plan.messages[index..].to_vec(), ..plan };
            let next = now_ms() + app.config.retry.backoff(1).as_millis() as u64;
            let id =
                journal::enqueue(harness.database(), harness.namespace(), &outbound_json::stored_plan(&rest), 1, next)?;
            report["status"] = json!("queued");
            report["queued"] = json!(id);
            return Ok((StatusCode::ACCEPTED, report));
        }
        Some(_) => {
            report["ok"] = json!(false);
            report["status"] = json!("failed");
        }
    }
    Ok((StatusCode::OK, report))
}

/// Sends what is due in the retry queue; each item ends sent, failed (reported), or pending with a later time.
fn drain_outbox(app: &App) {
    let (harness, policy) = (&app.harness, &app.config.retry);
    let due = match journal::due(harness.database(), harness.namespace(), now_ms(), 16) {
        Ok(due) => due,
        Err(e) => return tracing::error!("reading the retry queue: {e:#}"),
    };
    for mut item in due {
        let Some(plan) = outbound_json::plan_from_stored(&item.plan) else {
            let _ = journal::settle(
                harness.database(),
                harness.namespace(),
                &item,
                "failed",
                0,
                &json!({"error": "unreadable plan"}),
            );
            continue;
        };
        item.attempts += 1;
        let statuses = match harness.send_plan(&plan, now_ms()) {
            Ok(statuses) => statuses,
            Err(e) => return tracing::error!("sending a queued reply: {:?}", e.to_error_info()),
        };
        let outcomes: Vec<Outcome> =
            statuses.into_iter().map(|status| Outcome { status, attempts: item.attempts }).collect();
        let report = outbound_json::deliveries(&outcomes);
        let settled = match first_failure(&outcomes) {
            None => journal::settle(harness.database(), harness.namespace(), &item, "sent", 0, &report),
            Some((index, Retry::Later | Retry::Now)) if item.attempts < policy.max_attempts => {
                item.plan = outbound_json::stored_plan(&SendPlan { messages: plan.messages[index..].to_vec(), ..plan });
                let next = now_ms() + policy.backoff(item.attempts).as_millis() as u64;
                journal::settle(harness.database(), harness.namespace(), &item, "pending", next, &report)
            }
            Some(_) => journal::settle(harness.database(), harness.namespace(), &item, "failed", 0, &report),
        };
        if let Err(e) = settled {
            tracing::error!("recording a queued reply: {e:#}");
        }
    }
}

/// Evaluates every linked account: refreshes what should be, and stores each owner notice once per period.
fn run_expiry(app: &App) {
    let harness = &app.harness;
    let accounts = match harness.list_accounts() {
        Ok(accounts) => accounts,
        Err(e) => return tracing::error!("listing accounts: {:?}", e.to_error_info()),
    };
    for account in accounts {
        let now = now_ms();
        let last_notice = harness.database().begin(harness.namespace().clone()).and_then(|s| {
            let at = journal::last_notice(&s, &account.account_id)?;
            s.commit()?;
            Ok(at)
        });
        let link = Link {
            now,
            linked_at: account.linked_at,
            token_expires_at: Some(account.token_expires_at),
            last_notice_at: last_notice.unwrap_or(None),
            owners: app.config.owners.clone(),
            last_error: account.last_error,
            last_error_at: account.last_error_at,
            language: app.config.language.clone(),
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
        let stored = harness.database().begin(harness.namespace().clone()).and_then(|s| {
            journal::record_event(&s, &notice)?;
            journal::set_notice(&s, &account.account_id, now)?;
            s.commit()
        });
        match stored {
            Ok(()) => tracing::info!(account = %account.account_id, "owner notice stored"),
            Err(e) => tracing::error!("storing an owner notice: {e:#}"),
        }
    }
}
