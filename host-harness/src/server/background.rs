//! Work beside the requests: sending replies (and queueing what may go later, durably), the retry queue, and the
//! expiry scheduler that refreshes tokens and stores owner notices as `owner-notice` events.

use super::ServeConfig;
use super::app::App;
use crate::clock::now_ms;
use crate::harness::{Harness, link_of};
use crate::store::{Namespace, channels, journal};
use messenger_core::accounts::AccountInfo;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(super) struct Background {
    app: Arc<App>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The expiry scheduler's lease (one node at a time runs it per channel).
const EXPIRY_LEASE: &str = "expiry-scheduler";

impl Background {
    /// Stops the tasks, then gives back the scheduler's leases this node holds: a node started next (this one,
    /// restarted) runs the scheduler at once instead of waiting the lease out.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let app = self.app;
        let _ = tokio::task::spawn_blocking(move || {
            for namespace in app.channels() {
                if let Err(e) =
                    journal::release_lease(app.harness.database(), &namespace, EXPIRY_LEASE, &app.config.node)
                {
                    tracing::warn!(channel = namespace.channel(), "giving back the expiry scheduler's lease: {e:#}");
                }
            }
        })
        .await;
    }
}

/// Starts the retry-queue worker, the expiry scheduler and, when configured, the push.
pub(super) fn start(app: Arc<App>) -> Background {
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
    let mut tasks = vec![
        every(app.config.outbox_every, drain_outbox),
        schedule_expiry(app.clone(), stopped.clone()),
        every(std::time::Duration::from_secs(2), release_memory),
        every(app.config.prune_every, prune),
    ];
    if let Some(forward) = &app.config.forward {
        tasks.push(every(forward.every, push));
    }
    Background { app, stop, tasks }
}

/// The expiry scheduler: a run at start, then one every `expiry_every`. A run that found another node's lease (the
/// lease this process held before a crash, say) is tried again once that lease has run out, not an interval later.
fn schedule_expiry(app: Arc<App>, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let worker = app.clone();
            let ran_all = tokio::task::spawn_blocking(move || run_expiry(&worker)).await.unwrap_or(true);
            let every = app.config.expiry_every;
            let wait = if ran_all { every } else { every.min(app.config.lease + std::time::Duration::from_secs(1)) };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.changed() => return,
            }
        }
    })
}

/// Pushes committed events to the helpdesk.
fn push(app: &App) {
    if let Some(forwarder) = &app.forwarder {
        super::forward::run(forwarder, &app.harness, &app.config.node);
    }
}

/// Prunes what the retention settings no longer keep, in every channel (every node may; the deletes are
/// idempotent).
fn prune(app: &App) {
    let database = app.harness.database();
    for namespace in app.channels() {
        match crate::store::retention::prune(database, &namespace, now_ms(), &app.config.retention) {
            Ok(pruned) if pruned != Default::default() => {
                tracing::info!(channel = namespace.channel(), ?pruned, "pruned by retention")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(channel = namespace.channel(), "pruning by retention: {e:#}"),
        }
    }
}

/// Sends what is due in the retry queue, and about once a minute deletes the replies settled past retention.
fn drain_outbox(app: &App) {
    let due = match channels::with_replies_due(app.harness.database(), app.harness.namespace(), now_ms()) {
        Ok(due) => due,
        Err(e) => return tracing::error!("finding the channels with replies due: {e:#}"),
    };
    for namespace in due {
        let Some(harness) = app.harness_for(&namespace) else { continue };
        if let Err(e) = app.outbox_for(&namespace).drain(&harness, &app.config.retry, 16) {
            tracing::error!(channel = namespace.channel(), "claiming from the retry queue: {e:#}");
        }
    }
    static LAST_PURGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = now_ms();
    let every = app.config.outbox_limits.retention.as_millis().clamp(10, 60_000) as u64;
    if now.saturating_sub(LAST_PURGE.load(std::sync::atomic::Ordering::Relaxed)) >= every {
        LAST_PURGE.store(now, std::sync::atomic::Ordering::Relaxed);
        for namespace in app.channels() {
            match app.outbox_for(&namespace).purge(now) {
                Ok(0) => {}
                Ok(purged) => {
                    tracing::info!(channel = namespace.channel(), purged, "settled replies past retention deleted")
                }
                Err(e) => tracing::error!(channel = namespace.channel(), "purging settled replies: {e:#}"),
            }
        }
    }
}

/// Gives freed memory back to the system once no body is held: glibc keeps what a burst of 1 MiB bodies freed in
/// its arenas otherwise, and the process stays at its peak long after the burst.
fn release_memory(app: &App) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if app.bodies.in_use() == 0 {
        // SAFETY: malloc_trim only returns free pages to the kernel; it has no preconditions.
        unsafe { libc::malloc_trim(0) };
    }
}

/// Evaluates every channel's linked accounts, each channel with its own owners and language. False when another
/// node held a channel's lease, so this run left it to that node.
fn run_expiry(app: &App) -> bool {
    let mut ran_all = true;
    for namespace in app.channels() {
        let Some((harness, owners, language)) = channel_for_notices(app, &namespace) else { continue };
        ran_all &= expire_channel(&harness, &app.config, owners, language);
    }
    ran_all
}

/// A channel's component, and the owners its notices go to in its language (its own settings, else the
/// deployment's).
fn channel_for_notices(app: &App, namespace: &Namespace) -> Option<(Harness, Vec<String>, Option<String>)> {
    let harness = app.harness_for(namespace)?;
    match channels::settings(harness.database(), namespace) {
        Ok(own) => {
            let settings = app.effective_settings(&own);
            Some((harness, settings.owners.unwrap_or_default(), settings.language))
        }
        Err(e) => {
            tracing::error!(channel = namespace.channel(), "reading the channel's settings: {e:#}");
            None
        }
    }
}

/// Evaluates a channel's linked accounts: refreshes what should be, and stores each owner notice once per period.
/// One node at a time runs it per channel (a lease row); and a notice is stored only if the last-notice time it was
/// decided on is still the stored one, so even two runs at once store it once. False when another node holds the
/// lease.
fn expire_channel(harness: &Harness, config: &ServeConfig, owners: Vec<String>, language: Option<String>) -> bool {
    let (database, namespace) = (harness.database(), harness.namespace());
    match journal::take_lease(database, namespace, EXPIRY_LEASE, &config.node, config.lease) {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!("another node runs the expiry scheduler");
            return false;
        }
        Err(e) => {
            tracing::error!("taking the expiry scheduler's lease: {e:#}");
            return true;
        }
    }
    let list =
        || harness.list_accounts().map_err(|e| tracing::error!("listing accounts: {:?}", e.to_error_info())).ok();
    let Some(mut accounts) = list() else { return true };
    // A cheap look at each working token finds a break before the next send does; the evaluation below then tells
    // the owners of it.
    if probe_tokens(harness, &accounts) {
        let Some(relisted) = list() else { return true };
        accounts = relisted;
    }
    for account in accounts {
        evaluate_account(harness, &account, &owners, &language, true);
    }
    true
}

/// Probes the token of each account not already known broken; true when a probe found (and recorded) a break.
fn probe_tokens(harness: &Harness, accounts: &[AccountInfo]) -> bool {
    let mut found = false;
    for account in accounts.iter().filter(|a| a.last_error.is_none()) {
        match harness.probe_token(&account.account_id, now_ms()) {
            Ok(Some(error)) => {
                tracing::warn!(account = %account.account_id, code = error.code, "the token probe found a broken link");
                found = true;
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(account = %account.account_id, code = %e.to_error_info().code, "no token probe"),
        }
    }
    found
}

/// Tells the owners of `accounts` of a channel now, what the scheduler would tell them on its next run (Meta said
/// the links broke): the same decision, once per break.
pub(super) fn tell_owners(app: &App, namespace: &Namespace, accounts: &[String]) {
    let Some((harness, owners, language)) = channel_for_notices(app, namespace) else { return };
    let listed = match harness.list_accounts() {
        Ok(listed) => listed,
        Err(e) => return tracing::error!("listing accounts: {:?}", e.to_error_info()),
    };
    for account in listed.iter().filter(|a| accounts.contains(&a.account_id)) {
        evaluate_account(&harness, account, &owners, &language, false);
    }
}

/// Evaluates one account's link now: refreshes its token when told to (and `refresh` allows), and stores the owner
/// notice the decision calls for, once.
fn evaluate_account(
    harness: &Harness,
    account: &AccountInfo,
    owners: &[String],
    language: &Option<String>,
    refresh: bool,
) {
    let (database, namespace) = (harness.database(), harness.namespace());
    let now = now_ms();
    let last_notice = match journal::last_notice(database, namespace, &account.account_id) {
        Ok(at) => at,
        Err(e) => return tracing::error!("reading when owners were last told: {e:#}"),
    };
    let link = link_of(account, now, last_notice, owners.to_vec(), language.clone());
    let Ok(decision) = harness.evaluate_link(&link) else { return };
    if refresh
        && decision.refresh
        && let Err(e) = harness.refresh_token(&account.account_id, now)
    {
        tracing::warn!(account = %account.account_id, code = %e.to_error_info().code, "token refresh failed; the notice path still runs");
    }
    if decision.notify.is_empty() {
        return;
    }
    let notice = json!({"account-id": account.account_id, "kind": "owner-notice", "notify": decision.notify,
        "notice": decision.notice, "reason": decision.reason, "expires-at": messenger_core::time::format_rfc3339(decision.expires_at)});
    match journal::store_notice(database, namespace, &account.account_id, last_notice, now, &notice) {
        Ok(true) => tracing::info!(account = %account.account_id, "owner notice stored"),
        Ok(false) => tracing::info!(account = %account.account_id, "owner notice already stored by another node"),
        Err(e) => tracing::error!("storing an owner notice: {e:#}"),
    }
}
