//! `bench --serve`: signed POSTs to `serve` on loopback against a bare handler that answers 200, both started in
//! this run and loaded the same way; with a PostgreSQL URL, also one and two `serve` nodes sharing it; and the
//! helpdesk's side (`feed`): the events feed's rate and the push lag.

use super::payload::{SECRET, payload};
use super::stats::round3;
use crate::harness::{Harness, HarnessConfig};
use crate::server::{ServeConfig, spawn};
use crate::store::Database;
use anyhow::Result;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CLIENTS: usize = 2;

/// Requests per second and the latency percentiles (ms) of `requests` POSTs from `CLIENTS` keep-alive clients,
/// client `c` posting to `addrs[c % addrs.len()]`.
fn load(addrs: &[SocketAddr], path: &str, requests: usize, offset: usize) -> (f64, f64, f64) {
    let per_client = requests / CLIENTS;
    let bodies: Vec<Vec<_>> =
        (0..CLIENTS).map(|c| (0..per_client).map(|i| payload("text", offset + c * per_client + i)).collect()).collect();
    let started = Instant::now();
    let workers: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(c, bodies)| {
            let url = format!("http://{}{path}", addrs[c % addrs.len()]);
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                bodies
                    .into_iter()
                    .map(|(headers, body)| {
                        let sent = Instant::now();
                        let mut response = agent
                            .post(&url)
                            .header("x-hub-signature-256", &headers[0].1)
                            .send(&body[..])
                            .expect("the server answers");
                        assert_eq!(response.status(), 200, "{:?}", response.body_mut().read_to_string());
                        sent.elapsed().as_secs_f64() * 1e3
                    })
                    .collect::<Vec<f64>>()
            })
        })
        .collect();
    let mut latencies: Vec<f64> = workers.into_iter().flat_map(|w| w.join().expect("a client")).collect();
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (latencies.len() as f64 / seconds, at(0.5), at(0.99))
}

/// A handler that does nothing but answer 200: the ceiling for this machine and client.
fn bare_server() -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            let router = axum::Router::new().route("/", axum::routing::post(|| async { "ok" }));
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
    });
    Ok((addr, stop))
}

/// `serve` nodes, one per database handle, loaded together after a warm-up: (rps, p50, p99).
fn serve_nodes(databases: Vec<Database>, requests: usize, offset: usize) -> Result<(f64, f64, f64)> {
    let mut servers = Vec::new();
    for (i, database) in databases.into_iter().enumerate() {
        let mut config = HarnessConfig::new(database);
        config.cache_dir = None;
        let serve_config = ServeConfig {
            addr: "127.0.0.1:0".parse()?,
            app_secret: Some(SECRET.into()),
            queue_limit: 256,
            expiry_every: Duration::from_secs(3600),
            node: format!("bench-{i}"),
            ..ServeConfig::default()
        };
        servers.push(spawn(Harness::new(config)?, serve_config)?);
    }
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    load(&addrs, "/webhooks/instagram", 100, offset + 10_000_000);
    let figures = load(&addrs, "/webhooks/instagram", requests, offset);
    for server in servers {
        server.stop()?;
    }
    Ok(figures)
}

/// Serve figures: SQLite on a temp file, the bare handler, and with `postgres` one and two nodes sharing it.
pub fn run(quick: bool, postgres: Option<&str>, out: &mut Map<String, Value>) -> Result<()> {
    let requests = if quick { 400 } else { 4000 };
    let dir = std::env::temp_dir().join(format!("messenger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let connections = crate::server::store_connections();
    let sqlite = serve_nodes(vec![Database::open(&dir.join("bench.db"), connections)?], requests, 0);
    let helpdesk = super::feed::run(quick, &dir, out);
    let _ = std::fs::remove_dir_all(&dir);
    helpdesk?;
    let (serve_rps, serve_p50, serve_p99) = sqlite?;
    let (bare, stop_bare) = bare_server()?;
    load(&[bare], "/", 100, 10_000_000);
    let (bare_rps, bare_p50, bare_p99) = load(&[bare], "/", requests, 0);
    let _ = stop_bare.send(());
    let mut figures = vec![
        ("serve_rps", serve_rps),
        ("serve_p50_ms", serve_p50),
        ("serve_p99_ms", serve_p99),
        ("bare_rps", bare_rps),
        ("bare_p50_ms", bare_p50),
        ("bare_p99_ms", bare_p99),
        ("serve_bare_ratio", serve_rps / bare_rps),
    ];
    if let Some(url) = postgres {
        // Message ids unique to this run: a shared database keeps what earlier runs stored.
        let offset = (crate::clock::now_ms() % 1_000_000_000) as usize * 100_000;
        let (rps, p50, p99) = serve_nodes(vec![Database::connect(url, connections)?], requests, offset)?;
        figures.extend([("serve_pg_rps", rps), ("serve_pg_p50_ms", p50), ("serve_pg_p99_ms", p99)]);
        let two = vec![Database::connect(url, connections)?, Database::connect(url, connections)?];
        let (rps, p50, p99) = serve_nodes(two, requests, offset + 50_000)?;
        figures.extend([("serve_pg2_rps", rps), ("serve_pg2_p50_ms", p50), ("serve_pg2_p99_ms", p99)]);
    }
    for (key, value) in figures {
        out.insert(key.into(), json!(round3(value)));
    }
    Ok(())
}
