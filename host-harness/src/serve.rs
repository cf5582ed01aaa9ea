//! `messenger-harness serve`: Meta's webhook endpoint and a reply API, running the component for real traffic.
//! A webhook POST is answered 200 only after the delivery and its events are committed; a full queue answers 503
//! (Meta delivers again) instead of growing without bound.

use crate::bindings::inbound::{Delivery, TranslateOptions};
use crate::harness::{CallError, Harness};
use crate::{background, now_ms, outbound_json};
use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// What `serve` runs with. Secrets come from the environment or a config file, never from flags.
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    /// The channel owners told about expiring or broken links.
    pub owners: Vec<String>,
    pub language: Option<String>,
    /// Deliveries and replies in flight at once; past it, 503.
    pub queue_limit: usize,
    pub outbox_every: Duration,
    pub expiry_every: Duration,
    pub retry: crate::retry::RetryPolicy,
    /// This node's name in queue claims and leases (unique per process by default).
    pub node: String,
    /// How long a claimed reply, or the expiry scheduler, belongs to this node before another may take over.
    /// Longer than any send (HTTP timeouts included), so a live node is never overtaken.
    pub lease: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            app_secret: None,
            verify_token: None,
            owners: Vec::new(),
            language: None,
            queue_limit: 64,
            outbox_every: Duration::from_secs(1),
            expiry_every: Duration::from_secs(3600),
            retry: crate::retry::RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_secs(2),
                max_delay: Duration::from_secs(300),
            },
            node: crate::node_name(),
            lease: Duration::from_secs(120),
        }
    }
}

pub(crate) struct App {
    pub harness: Arc<Harness>,
    pub config: ServeConfig,
    permits: Arc<Semaphore>,
    requests: AtomicU64,
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

/// Component calls run on a blocking pool of one thread per core.
fn component_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The connections a node's store needs: one per component worker, and two for the retry-queue worker and the
/// expiry scheduler.
pub fn store_connections() -> usize {
    component_workers() + 2
}

/// Binds `config.addr` and serves on a runtime of its own thread.
pub fn spawn(harness: Harness, config: ServeConfig) -> Result<ServerHandle> {
    let listener = std::net::TcpListener::bind(config.addr).with_context(|| format!("binding {}", config.addr))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let workers = component_workers();
    let permits = Arc::new(Semaphore::new(config.queue_limit));
    let app = Arc::new(App { harness: Arc::new(harness), config, permits, requests: AtomicU64::new(0) });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("serve".into()).spawn(move || -> Result<()> {
        // Component calls run on a blocking pool sized to the cores; the async side only moves bytes.
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
            let router = router(app);
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await?;
            background.stop().await;
            Ok(())
        });
        drop(runtime);
        drop(last_reference);
        served
    })?;
    Ok(ServerHandle { addr, stop: Some(stop), thread: Some(thread) })
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/instagram", get(handshake).post(webhook))
        .route("/api/messages", post(reply))
        .route("/api/messages/{id}", get(reply_status))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(messenger_core::inbound::MAX_BODY_BYTES))
        .with_state(app)
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

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

async fn handshake(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let Some(expected) = app.config.verify_token.clone() else {
        tracing::warn!("a verification request came, but no verify token is configured (MESSENGER_VERIFY_TOKEN)");
        return StatusCode::FORBIDDEN.into_response();
    };
    let request = crate::handshake::from_query(query.as_deref().unwrap_or(""));
    let harness = app.harness.clone();
    match tokio::task::spawn_blocking(move || harness.verify_subscription(&request, &expected)).await {
        Ok(Ok(challenge)) => ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = app.requests.fetch_add(1, Ordering::Relaxed);
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        tracing::warn!(request_id, "queue full: 503, Meta will deliver again");
        return error(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many deliveries in flight; retry");
    };
    let Some(app_secret) = app.config.app_secret.clone() else {
        tracing::error!(request_id, "a delivery came, but no app secret is configured (MESSENGER_APP_SECRET): refused");
        return error(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "the server has no app secret to verify deliveries with",
        );
    };
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let delivery = Delivery { headers, body: body.to_vec(), received_at: now_ms() };
    let harness = app.harness.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        harness.translate_recorded(&delivery, &TranslateOptions { app_secret, filters: None })
    })
    .await;
    match outcome {
        Ok(Ok(events)) => {
            tracing::info!(request_id, events = events.len(), "delivery committed");
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(Err(CallError::Rejected(e))) if e.code == "bad-signature" => {
            tracing::warn!(request_id, "bad signature: 401, nothing stored");
            error(StatusCode::UNAUTHORIZED, &e.code, e.message)
        }
        Ok(Err(CallError::Rejected(e))) if e.code != messenger_core::codes::STORAGE_UNAVAILABLE => {
            tracing::warn!(request_id, code = %e.code, "refused delivery");
            error(StatusCode::BAD_REQUEST, &e.code, e.message)
        }
        Ok(Err(other)) => {
            let info = other.to_error_info();
            tracing::error!(request_id, code = %info.code, "delivery not stored: 500, Meta will deliver again");
            error(StatusCode::INTERNAL_SERVER_ERROR, &info.code, info.message)
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    }
}

/// Validates and sends a reply; what cannot be sent now but may later is queued durably.
async fn reply(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = app.requests.fetch_add(1, Ordering::Relaxed);
    let request_key = match headers.get("idempotency-key").map(|key| key.to_str()) {
        None => None,
        Some(Ok(key)) if !key.is_empty() && key.len() <= 200 => Some(key.to_owned()),
        Some(_) => {
            return error(StatusCode::BAD_REQUEST, "invalid-idempotency-key", "1 to 200 visible ASCII characters");
        }
    };
    let reply = match outbound_json::parse_request(&body, now_ms()) {
        Ok(reply) => reply,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.code, e.message),
    };
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many requests in flight; retry");
    };
    let worker = app.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        background::send_now(&worker, &reply, request_key.as_deref())
    })
    .await;
    match outcome {
        Ok(Ok((status, report))) => {
            tracing::info!(request_id, status = status.as_u16(), "reply handled");
            (status, Json(report)).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", format!("{e:#}")),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    }
}

async fn reply_status(State(app): State<Arc<App>>, Path(id): Path<i64>) -> Response {
    // The database clients block: off the async workers.
    let stored = tokio::task::spawn_blocking(move || background::stored_reply(&app, id))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the worker failed")));
    match stored {
        Ok(Some(reply)) => Json(reply).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not-found", "no such queued reply"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", format!("{e:#}")),
    }
}
