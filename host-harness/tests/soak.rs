//! A soak of one `serve` node (the real binary, on SQLite) under everything issue 18 found at once, on loopback
//! only and bounded in count and time: a flood of forged 1 MiB posts, slow-header, slow-body and idle
//! connections from other loopback addresses, and a slow Graph holding replies, while signed deliveries flow.
//! Every signed delivery must be acknowledged and stored once, `/healthz` must answer throughout, and the server's
//! resident memory must come back to within 20% of where it started.

use messenger_test_support::raw::{KillOnDrop, connect_from, post_from, rss_kib};
use messenger_test_support::{
    API_KEY, APP_SECRET, AUTH, FakeGraph, free_port, graph_fixture, http_client_with_timeout, sign,
};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SIGNED: usize = 60;
const LOAD: Duration = Duration::from_secs(20);
const MEMORY_SLACK: f64 = 1.2;

fn signed(i: usize) -> (String, Vec<u8>) {
    let mid = format!("soak-mid-{i:04}");
    let body = messenger_test_support::text_delivery(&mid, i, &format!("soak {i}"));
    (mid, body)
}

fn reply() -> Vec<u8> {
    serde_json::json!({"account-id": "17841400000000001", "customer-id": "1098765432100001", "author": "agent",
        "last-customer-message-at": messenger_core::time::format_rfc3339(messenger_harness::now_ms() - 60_000), "text": "soak reply"})
    .to_string()
    .into_bytes()
}

/// Runs `work` on a thread until `stop`, at most `LOAD` and a margin.
fn until_stopped(stop: &Arc<AtomicBool>, mut work: impl FnMut() + Send + 'static) -> std::thread::JoinHandle<()> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + LOAD + Duration::from_secs(30);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            work();
        }
    })
}

#[test]
fn one_node_under_floods_slow_clients_and_a_slow_graph_keeps_every_signed_delivery() {
    // A slow Graph: each send waits 1 s, each profile 300 ms (one at a time: the fake serves serially).
    let graph = FakeGraph::start(|seen| {
        if seen.url.contains("/messages") {
            std::thread::sleep(Duration::from_millis(1_000));
            (200, graph_fixture("send-ok.json"))
        } else {
            std::thread::sleep(Duration::from_millis(300));
            (200, graph_fixture("profile.json"))
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Command::new(env!("CARGO_BIN_EXE_messenger-harness"))
        .current_dir(dir.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--db", "soak.db", "--graph-url", &graph.url()])
        .env("MESSENGER_APP_SECRET", APP_SECRET)
        .env("MESSENGER_ACCESS_TOKEN", "soak-token")
        .env("MESSENGER_API_KEYS", format!("soak:{API_KEY}"))
        .env("MESSENGER_CACHE_DIR", dir.path().join("cache"))
        .env_remove("MESSENGER_DB_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = KillOnDrop(server);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let agent = http_client_with_timeout(Some(Duration::from_secs(15)));
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.get(format!("http://{addr}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let post = |path: &str, headers: &[(&str, &str)], body: &[u8]| {
        let mut request = agent.post(format!("http://{addr}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send(body).map(|r| r.status().as_u16()).unwrap_or(0)
    };

    // Warm up every path once (deliveries, a reply, a few forged 1 MiB posts), then take the baseline.
    let forged = Arc::new(vec![b'x'; 1 << 20]);
    for i in 0..5 {
        let (_, body) = signed(10_000 + i);
        assert_eq!(post("/webhooks/instagram", &[("X-Hub-Signature-256", &sign(APP_SECRET, &body))], &body), 200);
    }
    assert_eq!(post("/api/messages", &[AUTH], &reply()), 200);
    for _ in 0..8 {
        post_from(
            Ipv4Addr::new(127, 0, 0, 2),
            addr,
            "/webhooks/instagram",
            &[("X-Hub-Signature-256", "sha256=00")],
            &forged,
        );
    }
    std::thread::sleep(Duration::from_secs(3));
    let start_kib = rss_kib(server.0.id());

    let stop = Arc::new(AtomicBool::new(false));
    let peak_kib = Arc::new(AtomicU64::new(start_kib));
    let mut load = Vec::new();
    // The forged flood: two addresses, two threads each, bounded in count.
    let forged_sent = Arc::new(AtomicU64::new(0));
    for i in 0..4u8 {
        let (forged, sent) = (forged.clone(), forged_sent.clone());
        load.push(until_stopped(&stop, move || {
            if sent.fetch_add(1, Ordering::Relaxed) < 2_000 {
                let from = Ipv4Addr::new(127, 0, 0, 2 + i % 2);
                post_from(from, addr, "/webhooks/instagram", &[("X-Hub-Signature-256", "sha256=00")], &forged);
            } else {
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
    }
    // Slow headers, slow bodies and idle connections, reopened as the server cuts them.
    for (kind, from) in [(0u8, 4u8), (1, 5), (2, 6)] {
        load.push(until_stopped(&stop, move || {
            let streams: Vec<_> =
                (0..20).filter_map(|_| connect_from(Ipv4Addr::new(127, 0, 0, from), addr).ok()).collect();
            for _ in 0..10 {
                for mut stream in &streams {
                    let _ = match kind {
                        0 => stream.write_all(b"X"),
                        1 => stream
                            .write_all(b"POST /webhooks/instagram HTTP/1.1\r\nContent-Length: 1048576\r\n\r\nxxxx"),
                        _ => Ok(()),
                    };
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }));
    }
    // Replies held by the slow Graph.
    load.push(until_stopped(&stop, move || {
        let agent = http_client_with_timeout(Some(Duration::from_secs(30)));
        let _ = agent.post(format!("http://{addr}/api/messages")).header(AUTH.0, AUTH.1).send(&reply()[..]);
        std::thread::sleep(Duration::from_millis(1_000));
    }));
    // /healthz throughout, and the server's memory.
    let health = Arc::new(Mutex::new((0u32, 0u32, Duration::ZERO)));
    let (record, peak, pid) = (health.clone(), peak_kib.clone(), server.0.id());
    load.push(until_stopped(&stop, move || {
        let agent = http_client_with_timeout(Some(Duration::from_secs(2)));
        let started = Instant::now();
        let ok = agent.get(format!("http://{addr}/healthz")).call().is_ok_and(|r| r.status() == 200);
        let mut record = record.lock().unwrap();
        *record = (record.0 + 1, record.1 + u32::from(!ok), record.2.max(started.elapsed()));
        peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(200));
    }));

    // The signed deliveries, as Meta sends them: again until a 200; two senders, paced over the load.
    let began = Instant::now();
    let senders: Vec<_> = (0..2)
        .map(|sender| {
            std::thread::spawn(move || {
                let agent = http_client_with_timeout(Some(Duration::from_secs(15)));
                let (mut acknowledged, mut refused_first, mut slowest) = (Vec::new(), 0u32, Duration::ZERO);
                for i in (sender..SIGNED).step_by(2) {
                    let (mid, body) = signed(i);
                    let signature = sign(APP_SECRET, &body);
                    let due = began + LOAD.mul_f64(i as f64 / SIGNED as f64);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    for attempt in 0.. {
                        let started = Instant::now();
                        let status = agent
                            .post(format!("http://{addr}/webhooks/instagram"))
                            .header("X-Hub-Signature-256", &signature)
                            .send(&body[..])
                            .map_or(0, |r| r.status().as_u16());
                        slowest = slowest.max(started.elapsed());
                        if status == 200 {
                            acknowledged.push(mid);
                            break;
                        }
                        refused_first += u32::from(attempt == 0);
                        assert!(began.elapsed() < LOAD * 3, "delivery {i} never acknowledged: {status}");
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                (acknowledged, refused_first, slowest)
            })
        })
        .collect();
    let (mut acknowledged, mut refused_first, mut slowest) = (Vec::new(), 0, Duration::ZERO);
    for sender in senders {
        let (acked, refused, slow) = sender.join().unwrap();
        acknowledged.extend(acked);
        refused_first += refused;
        slowest = slowest.max(slow);
    }
    let delivering = began.elapsed();
    stop.store(true, Ordering::Relaxed);
    for thread in load {
        thread.join().unwrap();
    }
    std::thread::sleep(Duration::from_secs(4));
    let end_kib = rss_kib(server.0.id());
    let _ = server.0.kill();
    let _ = server.0.wait();

    let output = Command::new(env!("CARGO_BIN_EXE_messenger-harness"))
        .args(["events", "--db"])
        .arg(dir.path().join("soak.db"))
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    for mid in &acknowledged {
        let copies = events.iter().filter(|e| e["message-id"] == mid.as_str()).count();
        assert_eq!(copies, 1, "{mid} stored {copies} times");
    }
    let (checks, failed, slowest_health) = *health.lock().unwrap();
    let peak_kib = peak_kib.load(Ordering::Relaxed).max(end_kib);
    eprintln!(
        "soak: {} signed deliveries acknowledged and stored once in {delivering:?} ({refused_first} refused at first, \
         slowest answer {slowest:?}); {} forged 1 MiB posts; /healthz {checks} checks, {failed} failed, slowest \
         {slowest_health:?}; RSS start {start_kib} KiB, peak {peak_kib} KiB, end {end_kib} KiB",
        acknowledged.len(),
        forged_sent.load(Ordering::Relaxed).min(2_000),
    );
    assert_eq!(acknowledged.len(), SIGNED);
    assert_eq!(failed, 0, "/healthz failed {failed} of {checks} times");
    assert!(
        (end_kib as f64) <= start_kib as f64 * MEMORY_SLACK,
        "memory did not come back: start {start_kib} KiB, end {end_kib} KiB (peak {peak_kib} KiB)"
    );
}
