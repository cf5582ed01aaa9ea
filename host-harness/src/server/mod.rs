//! `serve`: Meta's webhook endpoint and a reply API, running the component for real traffic. A webhook POST is
//! answered 200 only after the delivery and its events are committed; a full queue answers 503 (Meta delivers
//! again) instead of growing without bound. `routes` maps results to HTTP; `background` runs the retry worker and
//! the expiry scheduler.

mod admission;
mod answer;
mod api;
mod app;
mod backfill;
mod background;
mod conn;
mod console;
mod deliver;
mod forward;
mod keys;
mod metrics;
mod observe;
pub(crate) mod parse;
mod routes;

pub use console::ConsoleConfig;
pub use deliver::Unrouted;
pub use forward::{ForwardConfig, stored_cursor as forward_cursor};
pub use keys::ApiKey;

use crate::harness::{Harness, RetryPolicy};
pub use crate::store::retention::Retention;
use anyhow::{Context, Result};
use app::App;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What `serve` runs with. Secrets come from the environment or a config file, never from flags.
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    /// The owners told about expiring or broken links, for every channel that set none of its own
    /// (`PUT /api/settings`).
    pub owners: Vec<String>,
    /// The owner notices' language, for every channel that set none of its own.
    pub language: Option<String>,
    /// Where entries for accounts no channel linked go: the default channel, or nowhere (recorded as skipped).
    pub unrouted: Unrouted,
    /// Deliveries in flight at once (their signature already checked); past it, 503. One client address may hold
    /// half of them.
    pub queue_limit: usize,
    /// Replies (`/api/messages`) in flight at once, apart from the deliveries; past it, 503.
    pub api_limit: usize,
    /// Request bodies being read or held at once (each at most 1 MiB); past it, 503. One client may hold a quarter.
    pub max_bodies: usize,
    /// Open connections at once (kept below the descriptor limit); past it, new ones are closed at once.
    pub max_connections: usize,
    /// Open connections one client address may hold.
    pub max_connections_per_client: usize,
    /// A request's head must arrive within this, on a new connection or between keep-alive requests.
    pub header_timeout: Duration,
    /// A request's body must arrive within this; else 408.
    pub body_timeout: Duration,
    /// A request must be answered within this; else 503.
    pub request_timeout: Duration,
    /// How long a stop waits for requests in flight before cutting their connections.
    pub shutdown_grace: Duration,
    /// How much the reply queue may hold, and how long settled replies are kept.
    pub outbox_limits: crate::outbox::QueueLimits,
    pub outbox_every: Duration,
    pub expiry_every: Duration,
    pub retry: RetryPolicy,
    /// This node's name in queue claims and leases (unique per process by default).
    pub node: String,
    /// How long a claimed reply, or the expiry scheduler, belongs to this node before another may take over.
    /// Longer than any send (HTTP timeouts included), so a live node is never overtaken.
    pub lease: Duration,
    /// Who may call `/api/*` (`Authorization: Bearer <key>`). With none, every API call is refused, and `spawn`
    /// refuses a non-loopback address.
    pub api_keys: Vec<ApiKey>,
    /// How often a waiting feed request reads the store again, for events other nodes committed (this node's own
    /// deliveries wake it at once).
    pub feed_poll: Duration,
    /// Push committed events to the helpdesk (`--forward-url`).
    pub forward: Option<ForwardConfig>,
    /// How long raw bodies, events and activity rows are kept, and how often they are pruned.
    pub retention: Retention,
    pub prune_every: Duration,
    /// Linking from a browser: the app ids, the public URL, the dialog host.
    pub console: ConsoleConfig,
    /// How fast history backfills go, as a share of the wait the component asks for between steps (Meta's 2 calls a
    /// second per account): 1.0 keeps to Meta's rate; tests go faster against a fake Graph.
    pub history_pace: f64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            app_secret: None,
            verify_token: None,
            owners: Vec::new(),
            language: None,
            unrouted: Unrouted::Default,
            queue_limit: 64,
            api_limit: 64,
            max_bodies: 32,
            max_connections: 1024,
            max_connections_per_client: 128,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            outbox_limits: crate::outbox::QueueLimits::default(),
            outbox_every: Duration::from_secs(1),
            expiry_every: Duration::from_secs(3600),
            retry: RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_secs(2),
                max_delay: Duration::from_secs(300),
            },
            node: crate::clock::node_name(),
            lease: Duration::from_secs(120),
            api_keys: Vec::new(),
            feed_poll: Duration::from_millis(200),
            forward: None,
            retention: Retention::default(),
            prune_every: Duration::from_secs(3600),
            console: ConsoleConfig::default(),
            history_pace: 1.0,
        }
    }
}

/// A running server; stops (gracefully) when `stop` is called or it is dropped.
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl ServerHandle {
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| anyhow::anyhow!("the server thread panicked"))?,
            None => Ok(()),
        }
    }

    /// Blocks until the process is asked to stop (Ctrl-C or SIGTERM), then stops gracefully.
    pub fn wait_for_signal(mut self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(shutdown_signal());
        tracing::info!("stopping: finishing requests in flight");
        self.shutdown()
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Component calls run on a blocking pool of a few threads per core. A delivery spends much of its time waiting,
/// not running: on its group's commit (an `fsync`), on Graph (a profile). With one thread per core the cores would
/// idle while every thread waits, and deliveries that arrive together could not commit together.
fn component_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * THREADS_PER_CORE
}

/// Blocking threads per core (see `component_workers`; BENCHMARKS.md, "Group commit", has the figures).
const THREADS_PER_CORE: usize = 4;

/// The connections a node's store needs: one per component worker, and two for the retry-queue worker and the
/// expiry scheduler.
pub fn store_connections() -> usize {
    component_workers() + 2
}

/// Binds `config.addr` and serves on a runtime of its own thread.
/// Refuses, saying why, to listen on a non-loopback address with no API key.
pub fn spawn(harness: Harness, config: ServeConfig) -> Result<ServerHandle> {
    ApiKey::check_all(&config.api_keys)?;
    if config.api_keys.is_empty() && !config.addr.ip().is_loopback() {
        anyhow::bail!(
            "refusing to listen on {} with no API key: anyone who reaches it could make the business send messages \
             and read its inbox. Set MESSENGER_API_KEYS (or `api-keys` in the config file), or listen on 127.0.0.1",
            config.addr
        );
    }
    let listener = std::net::TcpListener::bind(config.addr).with_context(|| format!("binding {}", config.addr))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let workers = component_workers();
    let limits = conn::ConnLimits {
        max_connections: conn::connection_cap(config.max_connections),
        per_client: config.max_connections_per_client,
        header_timeout: config.header_timeout,
        request_timeout: config.request_timeout,
        shutdown_grace: config.shutdown_grace,
        max_body: messenger_core::inbound::MAX_BODY_BYTES,
    };
    let app = Arc::new(App::new(harness, config));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("serve".into()).spawn(move || -> Result<()> {
        // Component calls run on a blocking pool sized to the cores (a few threads each); the async side only moves
        // bytes.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(workers)
            .enable_all()
            .build()?;
        // The last reference is dropped here, outside the runtime: PostgreSQL clients block when they close.
        let last_reference = app.clone();
        let served = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let background = background::start(app.clone());
            let router = routes::router(app.clone())
                .merge(api::router(app.clone()))
                .merge(observe::router(app.clone()))
                .merge(console::router(app.clone()))
                .layer(axum::middleware::from_fn_with_state(app, observe::track));
            conn::serve(listener, router, limits, async {
                let _ = stopped.await;
            })
            .await;
            background.stop().await;
            Ok(())
        });
        // Component calls still running end by their own wall-clock limit; the stop does not wait past it.
        runtime.shutdown_timeout(limits.shutdown_grace);
        drop(last_reference);
        served
    })?;
    Ok(ServerHandle { addr, stop: Some(stop), thread: Some(thread) })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
