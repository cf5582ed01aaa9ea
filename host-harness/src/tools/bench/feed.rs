//! `bench --serve`, the helpdesk's side: how fast the events feed pages out (`feed_events_per_s`, pages of 1000
//! over HTTP), and the push lag (`push_lag_p50_ms`, `push_lag_p99_ms`: from a delivery's 200 to its event
//! arriving at a receiver on loopback, deliveries posted one at a time).

use super::payload::{SECRET, payload};
use super::stats::round3;
use crate::harness::{Harness, HarnessConfig};
use crate::server::{ApiKey, ForwardConfig, ServeConfig, spawn};
use crate::store::Database;
use anyhow::{Context, Result};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "bench-api-key";

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A receiver that notes when each pushed message id first arrived.
fn receiver() -> Result<(SocketAddr, Arrivals, tokio::sync::oneshot::Sender<()>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let arrivals: Arrivals = Arc::default();
    let noted = arrivals.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
            let note = move |body: axum::body::Bytes| {
                let noted = noted.clone();
                async move {
                    let batch: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let now = Instant::now();
                    let mut noted = noted.lock().expect("arrivals");
                    for event in batch["events"].as_array().into_iter().flatten() {
                        if let Some(id) = event["message-id"].as_str() {
                            noted.entry(id.to_owned()).or_insert(now);
                        }
                    }
                    "ok"
                }
            };
            let router = axum::Router::new().route("/", axum::routing::post(note));
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
    });
    Ok((addr, arrivals, stop))
}

fn message_id(body: &[u8]) -> Result<String> {
    let body: Value = serde_json::from_slice(body)?;
    let id = body["entry"][0]["messaging"][0]["message"]["mid"].as_str().context("a bench payload has a mid")?;
    Ok(id.to_owned())
}

/// Feed and push figures on SQLite in `dir`.
pub fn run(quick: bool, dir: &std::path::Path, out: &mut Map<String, Value>) -> Result<()> {
    let deliveries = if quick { 100 } else { 1000 };
    let (receiver_addr, arrivals, stop_receiver) = receiver()?;
    let mut config = HarnessConfig::new(Database::open(&dir.join("feed.db"), crate::server::store_connections())?);
    config.cache_dir = None;
    let serve_config = ServeConfig {
        addr: "127.0.0.1:0".parse()?,
        app_secret: Some(SECRET.into()),
        api_keys: vec![ApiKey { name: "bench".into(), key: KEY.into(), channel: None }],
        forward: Some(ForwardConfig::new(format!("http://{receiver_addr}/"), "bench-forward-secret")),
        node: "bench-feed".into(),
        ..ServeConfig::default()
    };
    let server = spawn(Harness::new(config)?, serve_config)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let webhook = format!("http://{}/webhooks/instagram", server.addr);
    let mut acknowledged = Vec::new();
    for n in 0..deliveries {
        let (headers, body) = payload("text", 20_000_000 + n);
        // One at a time, about 50 a second: the lag of a push that keeps up, not of a backlog.
        std::thread::sleep(Duration::from_millis(20));
        let response = agent.post(&webhook).header("x-hub-signature-256", &headers[0].1).send(&body[..])?;
        anyhow::ensure!(response.status() == 200, "a bench delivery was refused: {}", response.status());
        acknowledged.push((message_id(&body)?, Instant::now()));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().expect("arrivals").len() < deliveries {
        anyhow::ensure!(Instant::now() < deadline, "the push did not catch up within a minute");
        std::thread::sleep(Duration::from_millis(10));
    }
    let arrived = arrivals.lock().expect("arrivals").clone();
    let mut lags: Vec<f64> =
        acknowledged.iter().map(|(id, at)| arrived[id].saturating_duration_since(*at).as_secs_f64() * 1e3).collect();
    lags.sort_by(f64::total_cmp);
    let at = |q: f64| lags[((lags.len() as f64 * q) as usize).min(lags.len() - 1)];

    // The feed, paged over HTTP from the start, five times over.
    let started = Instant::now();
    let mut read = 0usize;
    for _ in 0..5 {
        let mut after = String::new();
        loop {
            let url = format!("http://{}/api/events?limit=1000&after={after}", server.addr);
            let mut response = agent.get(&url).header("authorization", format!("Bearer {KEY}")).call()?;
            let page: Value = serde_json::from_str(&response.body_mut().read_to_string()?)?;
            let events = page["events"].as_array().map_or(0, Vec::len);
            if events == 0 {
                break;
            }
            read += events;
            after = page["next"].as_str().unwrap_or_default().to_owned();
        }
    }
    let feed_events_per_s = read as f64 / started.elapsed().as_secs_f64();
    server.stop()?;
    let _ = stop_receiver.send(());
    for (key, value) in
        [("feed_events_per_s", feed_events_per_s), ("push_lag_p50_ms", at(0.5)), ("push_lag_p99_ms", at(0.99))]
    {
        out.insert(key.into(), json!(round3(value)));
    }
    Ok(())
}
