//! What every request and background task of one server shares.

use super::ServeConfig;
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
    requests: AtomicU64,
}

impl App {
    pub fn new(harness: Harness, config: ServeConfig) -> Self {
        let outbox =
            Outbox::new(harness.database().clone(), harness.namespace().clone(), config.node.clone(), config.lease);
        let permits = Arc::new(Semaphore::new(config.queue_limit));
        Self { harness: Arc::new(harness), outbox, config, permits, requests: AtomicU64::new(0) }
    }

    /// A number for the logs of one request.
    pub fn next_request_id(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }
}
