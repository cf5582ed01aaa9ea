//! What every request and background task of one server shares.

use super::ServeConfig;
use super::forward::Forwarder;
use super::keys::Keys;
use super::metrics::Metrics;
use crate::harness::Harness;
use crate::outbox::Outbox;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

pub(super) struct App {
    pub harness: Arc<Harness>,
    pub outbox: Outbox,
    pub config: ServeConfig,
    pub permits: Arc<Semaphore>,
    pub keys: Keys,
    /// Bumped after each delivery this node committed: wakes the feed's waiting requests.
    pub committed: tokio::sync::watch::Sender<u64>,
    pub forwarder: Option<Forwarder>,
    pub metrics: Metrics,
    requests: AtomicU64,
}

impl App {
    pub fn new(harness: Harness, config: ServeConfig) -> Self {
        let outbox =
            Outbox::new(harness.database().clone(), harness.namespace().clone(), config.node.clone(), config.lease);
        let permits = Arc::new(Semaphore::new(config.queue_limit));
        let keys = Keys::new(&config.api_keys);
        let committed = tokio::sync::watch::Sender::new(0);
        let forwarder = config.forward.clone().map(Forwarder::new);
        Self {
            harness: Arc::new(harness),
            outbox,
            config,
            permits,
            keys,
            committed,
            forwarder,
            metrics: Metrics::new(),
            requests: AtomicU64::new(0),
        }
    }

    /// Wakes whoever waits for new events (the feed's long polls).
    pub fn events_committed(&self) {
        self.committed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A number for the logs of one request.
    pub fn next_request_id(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }
}
