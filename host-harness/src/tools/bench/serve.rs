//! `bench --serve`: signed POSTs to `serve` on loopback against a bare handler that answers 200, both started in
//! this run and loaded the same way; with a PostgreSQL URL, also one and two `serve` nodes sharing it; and the
//! helpdesk's side (`feed`): the events feed's rate and the push lag.

use super::payload::{SECRET, payload};
use super::stats::round3;
use crate::harness::{Harness, HarnessConfig};
use crate::server::{ServeConfig, ServerHandle, spawn};
use crate::store::Database;
use anyhow::Result;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Keep-alive clients posting at once. Meta posts a busy page's deliveries over several connections, and
/// deliveries that arrive together are what group commit shares a transaction among (with 2, nearly none do).
const CLIENTS: usize = 8;

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

/// How many times each serve row is loaded: its figures are the median of the runs, with their spread.
const RUNS: usize = 5;

/// One load's figures: requests per second, p50 and p99 latency (ms).
type Load = (f64, f64, f64);

/// `serve` nodes, one per database handle, started and warmed up.
struct Nodes {
    servers: Vec<ServerHandle>,
    addrs: Vec<SocketAddr>,
}

impl Nodes {
    /// `native`: the nodes translate with the core linked in, not through the component.
    fn start(databases: Vec<Database>, native: bool) -> Result<Self> {
        let mut servers = Vec::new();
        for (i, database) in databases.into_iter().enumerate() {
            let mut config = HarnessConfig::new(database);
            config.cache_dir = None;
            config.native_inbound = native;
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
        load(&addrs, "/webhooks/instagram", 100, usize::MAX / 4);
        Ok(Self { servers, addrs })
    }

    /// `RUNS` loads of `requests` each, with message ids from `offset` on.
    fn runs(&self, requests: usize, offset: usize) -> Vec<Load> {
        (0..RUNS).map(|run| load(&self.addrs, "/webhooks/instagram", requests, offset + run * requests)).collect()
    }

    fn stop(self) -> Result<()> {
        self.servers.into_iter().try_for_each(ServerHandle::stop)
    }
}

/// The median of `values` and their spread (min, max).
fn median(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (values[values.len() / 2], values[0], values[values.len() - 1])
}

/// Puts `key` as the median of `values`, with `key_spread`.
fn put(out: &mut Map<String, Value>, key: &str, values: Vec<f64>) {
    let (mid, min, max) = median(values);
    out.insert(key.into(), json!(round3(mid)));
    out.insert(format!("{key}_spread"), json!([round3(min), round3(max)]));
}

/// Puts one row's runs as `<row>_rps`, `<row>_p50_ms` and `<row>_p99_ms`.
fn put_row(out: &mut Map<String, Value>, row: &str, runs: &[Load]) {
    put(out, &format!("{row}_rps"), runs.iter().map(|r| r.0).collect());
    put(out, &format!("{row}_p50_ms"), runs.iter().map(|r| r.1).collect());
    put(out, &format!("{row}_p99_ms"), runs.iter().map(|r| r.2).collect());
}

/// Serve figures: SQLite on a temp file against the same server with the core linked natively and against the
/// bare handler (their runs interleaved, so each ratio compares neighbours), and with `postgres` one and two
/// nodes sharing it. Each row is `RUNS` loads.
pub fn run(quick: bool, postgres: Option<&str>, out: &mut Map<String, Value>) -> Result<()> {
    let requests = if quick { 200 } else { 4000 };
    let dir = std::env::temp_dir().join(format!("messenger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let connections = crate::server::store_connections();
    let (bare, stop_bare) = bare_server()?;
    load(&[bare], "/", 100, 10_000_000);
    let sqlite = (|| {
        let nodes = Nodes::start(vec![Database::open(&dir.join("bench.db"), connections)?], false)?;
        let native = Nodes::start(vec![Database::open(&dir.join("native.db"), connections)?], true)?;
        let (mut served, mut natively, mut bared) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..RUNS {
            served.push(load(&nodes.addrs, "/webhooks/instagram", requests, run * requests));
            natively.push(load(&native.addrs, "/webhooks/instagram", requests, run * requests));
            bared.push(load(&[bare], "/", requests, 0));
        }
        nodes.stop()?;
        native.stop()?;
        Ok::<_, anyhow::Error>((served, natively, bared))
    })();
    let _ = stop_bare.send(());
    let helpdesk = super::feed::run(quick, &dir, out);
    let _ = std::fs::remove_dir_all(&dir);
    let (served, natively, bared) = sqlite?;
    helpdesk?;
    put_row(out, "serve", &served);
    put_row(out, "serve_native", &natively);
    put_row(out, "bare", &bared);
    put(out, "serve_bare_ratio", served.iter().zip(&bared).map(|(s, b)| s.0 / b.0).collect());
    put(out, "serve_native_ratio", served.iter().zip(&natively).map(|(s, n)| s.0 / n.0).collect());
    if let Some(url) = postgres {
        // Message ids unique to this run: a shared database keeps what earlier runs stored.
        let offset = (crate::clock::now_ms() % 1_000_000_000) as usize * 100_000;
        let one = Nodes::start(vec![Database::connect(url, connections)?], false)?;
        let pg = one.runs(requests, offset);
        one.stop()?;
        put_row(out, "serve_pg", &pg);
        put(out, "serve_pg_sqlite_ratio", pg.iter().zip(&served).map(|(p, s)| p.0 / s.0).collect());
        let two =
            Nodes::start(vec![Database::connect(url, connections)?, Database::connect(url, connections)?], false)?;
        let pg2 = two.runs(requests, offset + 50_000);
        two.stop()?;
        put_row(out, "serve_pg2", &pg2);
    }
    Ok(())
}
