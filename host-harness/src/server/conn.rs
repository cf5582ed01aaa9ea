//! Connections, served here rather than by `axum::serve`, which exposes no timeouts: hyper's HTTP/1 with a timer,
//! so a client that does not finish its request head in time (slow headers, or an idle keep-alive) is dropped; a
//! cap on open connections, overall (kept below the process's descriptor limit, so the server never runs out) and
//! per client address; a deadline on each request; an oversized `Content-Length` refused before any body is read;
//! and a shutdown that waits for requests in flight only until its deadline.

use super::admission::Admission;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_service::Service;

/// Who sent a request, for fairness and the logs.
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientAddr(pub SocketAddr);

/// A number per request, in the logs and the `x-request-id` header, so a 500's answer can be matched to its log.
#[derive(Debug, Clone, Copy)]
pub(super) struct RequestId(pub u64);

/// The connection limits `serve` runs with.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnLimits {
    pub max_connections: usize,
    pub per_client: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub max_body: usize,
}

/// Accepts and serves connections until `stopped`, then shuts down gracefully within `shutdown_grace`.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: ConnLimits,
    stopped: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Admission::new("connections", limits.max_connections, limits.per_client);
    let requests = Arc::new(AtomicU64::new(0));
    let open = Arc::new(Open::default());
    let mut builder = http1::Builder::new();
    // The request head (at most 64 KiB) must arrive within the header timeout, on a new connection and between
    // keep-alive requests alike: slow or idle clients cannot hold a descriptor for long.
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).max_buf_size(64 << 10);
    let mut refused_log = RateLimitedLog::default();
    tokio::pin!(stopped);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, most likely: pause instead of spinning, and keep serving what is open.
                    tracing::warn!(error = %e, "accepting a connection failed; pausing");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stopped => break,
        };
        let Some(ticket) = admit(&connections, &open, peer).await else {
            refused_log.note(peer, connections.in_use());
            continue; // closed at once: the client may retry; nobody waits in a queue
        };
        let _ = stream.set_nodelay(true);
        let state = open.register();
        let (router, requests, busy) = (router.clone(), requests.clone(), state.clone());
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let id = RequestId(requests.fetch_add(1, Ordering::Relaxed));
            let busy = Busy::start(&busy);
            let answer = handle(router.clone(), request, peer, id, limits);
            async move {
                let _busy = busy;
                answer.await
            }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        let open = open.clone();
        tokio::spawn(async move {
            let _ticket = ticket;
            tokio::select! {
                ended = connection => if let Err(e) = ended {
                    tracing::debug!(client = %peer, error = %e, "connection ended");
                },
                () = state.evicted.notified() => tracing::debug!(client = %peer, "idle connection closed for a newcomer"),
            }
            open.forget(&state);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(open = connections.in_use(), "shutdown deadline passed: cutting the connections still open");
    }
}

/// A slot for a new connection from `peer`. When every slot is taken, the oldest connection with no request in
/// progress (idle, or still sending its head) is closed to make room: idle clients, from however many addresses,
/// cannot lock out a new one. A client past its own share is refused.
async fn admit(connections: &Arc<Admission>, open: &Open, peer: SocketAddr) -> Option<super::admission::Ticket> {
    if let Some(ticket) = connections.try_admit(peer.ip()) {
        return Some(ticket);
    }
    if connections.in_use() < connections.total() || !open.evict_oldest_idle() {
        return None;
    }
    // The evicted connection's task gives its slot back as it ends.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if let Some(ticket) = connections.try_admit(peer.ip()) {
            return Some(ticket);
        }
    }
    None
}

/// The open connections, oldest first, each with its count of requests in progress.
#[derive(Default)]
struct Open {
    next: AtomicU64,
    by_age: Mutex<BTreeMap<u64, Arc<ConnState>>>,
}

struct ConnState {
    seq: u64,
    busy: AtomicUsize,
    evicted: tokio::sync::Notify,
}

impl Open {
    fn register(&self) -> Arc<ConnState> {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnState { seq, busy: AtomicUsize::new(0), evicted: tokio::sync::Notify::new() });
        self.by_age.lock().expect("connections lock").insert(seq, state.clone());
        state
    }

    fn forget(&self, state: &ConnState) {
        self.by_age.lock().expect("connections lock").remove(&state.seq);
    }

    fn evict_oldest_idle(&self) -> bool {
        let mut by_age = self.by_age.lock().expect("connections lock");
        let Some(seq) = by_age.values().find(|c| c.busy.load(Ordering::Relaxed) == 0).map(|c| c.seq) else {
            return false;
        };
        let state = by_age.remove(&seq).expect("just found");
        state.evicted.notify_one();
        true
    }
}

/// A request in progress on a connection (so it is not evicted as idle).
struct Busy(Arc<ConnState>);

impl Busy {
    fn start(state: &Arc<ConnState>) -> Self {
        state.busy.fetch_add(1, Ordering::Relaxed);
        Self(state.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One request: refused at once when its declared body is too large, else routed under the request deadline.
async fn handle(
    mut router: Router,
    mut request: Request<Incoming>,
    peer: SocketAddr,
    id: RequestId,
    limits: ConnLimits,
) -> Result<Response<Body>, std::convert::Infallible> {
    let declared = super::parse::declared_length(request.headers());
    let mut response = if declared.is_some_and(|length| length > limits.max_body as u64) {
        tracing::warn!(request_id = id.0, client = %peer, declared, "declared body over the cap: 413 before reading it");
        drain_briefly(Body::new(request.into_body()));
        super::answer::error(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "the body is over 1 MiB")
    } else {
        request.extensions_mut().insert(ClientAddr(peer));
        request.extensions_mut().insert(id);
        match tokio::time::timeout(limits.request_timeout, router.call(request.map(Body::new))).await {
            Ok(Ok(response)) => response,
            Err(_) => {
                tracing::warn!(request_id = id.0, client = %peer, "request deadline passed: 503");
                super::answer::error(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the request took too long; retry")
            }
        }
    };
    if let Ok(value) = id.0.to_string().parse() {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// Reads and discards a refused body for a moment, so the client, still writing it, can read the answer instead
/// of a reset; bounded in bytes and time, and never kept.
pub(super) fn drain_briefly(body: Body) {
    tokio::spawn(async move {
        use http_body_util::BodyExt;
        let mut body = body;
        let (until, mut left) = (Instant::now() + Duration::from_secs(2), 4u64 << 20);
        while left > 0 && Instant::now() < until {
            match tokio::time::timeout_at(until.into(), body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    left = left.saturating_sub(frame.data_ref().map_or(0, |d| d.len() as u64));
                }
                _ => break,
            }
        }
    });
}

/// At most one line a second about refused connections, however many there are.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    refused: u64,
}

impl RateLimitedLog {
    fn note(&mut self, peer: SocketAddr, open: usize) {
        self.refused += 1;
        if self.last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            tracing::warn!(client = %peer, open, refused = self.refused, "connection cap reached: closing new connections");
            self.last = Some(Instant::now());
            self.refused = 0;
        }
    }
}

/// The most connections this process can hold: `wanted`, kept below the descriptor limit with room for the
/// database, the Graph client and the log.
pub(super) fn connection_cap(wanted: usize) -> usize {
    const RESERVED: u64 = 64;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 { limit.rlim_cur } else { 1024 };
    let room = soft.saturating_sub(RESERVED).max(8);
    wanted.min(usize::try_from(room).unwrap_or(usize::MAX))
}
