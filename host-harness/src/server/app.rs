//! What every request and background task of one server shares.

use super::ServeConfig;
use super::admission::Admission;
use super::forward::Forwarder;
use super::keys::Keys;
use super::metrics::Metrics;
use crate::harness::Harness;
use crate::outbox::Outbox;
use crate::store::Namespace;
use std::sync::Arc;

pub(super) struct App {
    pub harness: Arc<Harness>,
    pub outbox: Outbox,
    pub config: ServeConfig,
    /// Bodies being read or held, whatever the route: bounds the memory requests can pin.
    pub bodies: Arc<Admission>,
    /// Deliveries in flight, taken only once the signature checks: forged posts never hold one.
    pub webhooks: Arc<Admission>,
    /// Replies in flight, apart from the deliveries, so neither starves the other.
    pub replies: Arc<Admission>,
    pub keys: Keys,
    /// Bumped after each delivery this node committed: wakes the feed's waiting requests.
    pub committed: tokio::sync::watch::Sender<u64>,
    pub forwarder: Option<Forwarder>,
    pub metrics: Metrics,
    /// The console's signer, pages and linking settings.
    pub console: super::console::state::Console,
    /// The accounts whose history backfill runs on this node: one loop each.
    backfills: Arc<super::backfill::Running>,
}

impl App {
    pub fn new(harness: Harness, config: ServeConfig) -> Self {
        let outbox =
            Outbox::new(harness.database().clone(), harness.namespace().clone(), config.node.clone(), config.lease)
                .with_limits(config.outbox_limits);
        let bodies = Admission::new("bodies", config.max_bodies, config.max_bodies / 4);
        let webhooks = Admission::new("deliveries", config.queue_limit, config.queue_limit / 2);
        let replies = Admission::new("replies", config.api_limit, config.api_limit / 2);
        let keys = Keys::new(&config.api_keys);
        let committed = tokio::sync::watch::Sender::new(0);
        let forwarder = config.forward.clone().map(Forwarder::new);
        let console = super::console::state::Console::new(&config.console, config.app_secret.as_deref());
        Self {
            harness: Arc::new(harness),
            outbox,
            config,
            bodies,
            webhooks,
            replies,
            keys,
            committed,
            forwarder,
            metrics: Metrics::new(),
            console,
            backfills: Arc::default(),
        }
    }

    /// The reply queue of a channel (the default channel's is `outbox`).
    pub fn outbox_for(&self, namespace: &Namespace) -> Outbox {
        if namespace == self.outbox.namespace() {
            return self.outbox.clone();
        }
        Outbox::new(self.harness.database().clone(), namespace.clone(), self.config.node.clone(), self.config.lease)
            .with_limits(self.config.outbox_limits)
    }

    /// Every channel the deployment knows, the default first (only the default when the store cannot say).
    pub fn channels(&self) -> Vec<Namespace> {
        let default = self.harness.namespace();
        crate::store::channels::known(self.harness.database(), default).unwrap_or_else(|e| {
            tracing::error!("listing the channels: {e:#}");
            vec![default.clone()]
        })
    }

    /// The component for a channel's calls.
    pub fn harness_for(&self, namespace: &Namespace) -> Option<Harness> {
        if namespace == self.harness.namespace() {
            return Some(Harness::clone(&self.harness));
        }
        self.harness.for_channel(namespace.channel()).map_err(|e| tracing::error!("{e:#}")).ok()
    }

    /// A channel's settings in effect: its own, else the deployment's.
    pub fn effective_settings(
        &self,
        own: &crate::store::channels::ChannelSettings,
    ) -> crate::store::channels::ChannelSettings {
        crate::store::channels::ChannelSettings {
            owners: Some(own.owners.clone().unwrap_or_else(|| self.config.owners.clone())),
            language: own.language.clone().or_else(|| self.config.language.clone()),
        }
    }

    /// Brings in the accounts' history in the background, at the configured pace (`start`: from the beginning, for
    /// newly linked accounts; else as `start_backfill` left it), each account's loop at most once on this node.
    pub fn backfill_in_background(self: &Arc<Self>, harness: Arc<Harness>, accounts: Vec<String>, start: bool) {
        let app = Arc::clone(self);
        let wake = move || app.events_committed();
        super::backfill::run_in_background(
            self.backfills.clone(),
            harness,
            accounts,
            start,
            self.config.history_pace,
            wake,
        );
    }

    /// Wakes whoever waits for new events (the feed's long polls).
    pub fn events_committed(&self) {
        self.committed.send_modify(|n| *n = n.wrapping_add(1));
    }
}
