//! What every request and background task of one server shares.

use super::ServeConfig;
use super::admission::Admission;
use super::forward::Forwarder;
use super::keys::Keys;
use super::metrics::Metrics;
use crate::harness::Harness;
use crate::outbox::Outbox;
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
        }
    }

    /// Wakes whoever waits for new events (the feed's long polls).
    pub fn events_committed(&self) {
        self.committed.send_modify(|n| *n = n.wrapping_add(1));
    }
}
