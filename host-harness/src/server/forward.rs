//! Push: committed events POSTed to the helpdesk (`--forward-url`), in feed order, at least once. One queue for
//! every channel of the deployment: each event names its `channel`, and keeps its place among its channel's.
//!
//! The feed is the durable queue and a cursor stored beside it is the position: a batch is read after the cursor,
//! POSTed as `{"events":[...]}` (the feed's objects, cursors included) signed with
//! `X-Connector-Signature-256: sha256=<HMAC-SHA256 of the body under the forward secret>`, and the cursor moves
//! only after a 2xx, by compare-and-swap from the position the batch was read after. A node killed mid-POST leaves
//! the cursor where it was, so the batch is sent again: the receiver dedups on the events' cursors. One node at a
//! time forwards (a lease); a failing receiver is retried with exponential backoff.

use crate::harness::Harness;
use crate::store::feed::{self, Position};
use crate::store::{Database, Namespace, journal};
use anyhow::{Context, Result};
use messenger_core::ports::Storage;
use serde_json::json;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Events per POST.
pub const BATCH: usize = 100;
/// Where the cursor is kept: a host namespace beside the channel's, never the plugin's.
const HOST_PLUGIN: &str = "connector-host";
const CURSOR_KEY: &str = "forward/cursor";

/// Where and how to push.
#[derive(Clone)]
pub struct ForwardConfig {
    pub url: String,
    pub secret: String,
    /// How long a node forwards before another may take over (renewed with every batch).
    pub lease: Duration,
    /// How often a node looks for committed events to send.
    pub every: Duration,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

/// One node's forwarder: the HTTP client and its backoff.
pub(super) struct Forwarder {
    config: ForwardConfig,
    agent: ureq::Agent,
    backoff: Mutex<Backoff>,
}

#[derive(Default)]
struct Backoff {
    failures: u32,
    next_try: Option<Instant>,
}

impl ForwardConfig {
    /// Pushing to `url` signed with `secret`: looked for every 100 ms, a 10 s lease, backoff from 1 s to 60 s.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            lease: Duration::from_secs(10),
            every: Duration::from_millis(100),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl Forwarder {
    pub fn new(config: ForwardConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self { config, agent, backoff: Mutex::new(Backoff::default()) }
    }
}

/// The stored position of the channel's push.
pub fn stored_cursor(database: &Database, namespace: &Namespace) -> Result<Position> {
    let state = state_namespace(namespace)?;
    let stored = database.transaction(&state, |s| s.get(CURSOR_KEY).map_err(|e| anyhow::anyhow!("{e:?}")))?;
    Ok(stored.and_then(|bytes| Position::from_cursor(&String::from_utf8_lossy(&bytes))).unwrap_or_default())
}

fn state_namespace(namespace: &Namespace) -> Result<Namespace> {
    Namespace::new(HOST_PLUGIN, namespace.channel())
}

/// Sends what is committed and not yet acknowledged, batch after batch, while the receiver takes them.
pub(super) fn run(forwarder: &Forwarder, harness: &Harness, node: &str) {
    if forwarder.backoff.lock().expect("backoff lock").next_try.is_some_and(|at| Instant::now() < at) {
        return;
    }
    loop {
        match forward_batch(forwarder, harness, node) {
            Ok(true) => forwarder.backoff.lock().expect("backoff lock").failures = 0,
            Ok(false) => return,
            Err(e) => {
                let mut backoff = forwarder.backoff.lock().expect("backoff lock");
                backoff.failures += 1;
                let delay = forwarder.config.base_delay.saturating_mul(1 << backoff.failures.min(16));
                let delay = delay.min(forwarder.config.max_delay);
                backoff.next_try = Some(Instant::now() + delay);
                return tracing::warn!(failures = backoff.failures, retry_in = ?delay, "forwarding events: {e:#}");
            }
        }
    }
}

/// Forwards one batch; false when there was nothing to send, or another node holds the lease.
fn forward_batch(forwarder: &Forwarder, harness: &Harness, node: &str) -> Result<bool> {
    let (database, namespace) = (harness.database(), harness.namespace());
    let after = stored_cursor(database, namespace)?;
    if feed::read_all(database, namespace, after, 1)?.is_empty() {
        return Ok(false);
    }
    let lease = format!("forwarder/{}", namespace.channel());
    if !journal::take_lease(database, namespace, &lease, node, forwarder.config.lease)? {
        return Ok(false);
    }
    // Read again under the lease: another node may have moved the cursor meanwhile.
    let after = stored_cursor(database, namespace)?;
    let batch = feed::read_all(database, namespace, after, BATCH)?;
    let Some(last) = batch.last().map(|e| e.position) else { return Ok(false) };
    let events: Vec<_> = batch.iter().map(feed::FeedEvent::to_json).collect();
    let body = serde_json::to_vec(&json!({"events": events}))?;
    let signature = messenger_core::signature::sign(forwarder.config.secret.as_bytes(), &body);
    let response = forwarder
        .agent
        .post(&forwarder.config.url)
        .header("content-type", "application/json")
        .header("x-connector-signature-256", &signature)
        .send(&body[..])
        .context("posting to the forward URL")?;
    let status = response.status().as_u16();
    anyhow::ensure!((200..300).contains(&status), "the forward URL answered {status}");
    let state = state_namespace(namespace)?;
    let (from, to) = (after.to_cursor(), last.to_cursor());
    let moved = database.transaction(&state, |s| {
        let expected = (after != Position::START).then_some(from.as_bytes());
        s.compare_and_swap(CURSOR_KEY, expected, to.as_bytes()).map_err(|e| anyhow::anyhow!("{e:?}"))
    })?;
    tracing::info!(events = batch.len(), cursor = %to, moved, "events forwarded");
    Ok(moved)
}
