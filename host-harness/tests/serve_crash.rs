//! Crash safety of `serve`: signed deliveries are posted while the server is killed with SIGKILL and restarted.
//! Every delivery acknowledged with 200 must be in `events`, exactly once.

use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "crash-app-secret";
const DELIVERIES: usize = 80;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(port: u16, db: &std::path::Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_messenger-harness"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--db"])
        .arg(db)
        .env("MESSENGER_APP_SECRET", SECRET)
        .env_remove("MESSENGER_ACCESS_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ureq::get(format!("http://127.0.0.1:{port}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn delivery(i: usize) -> (String, Vec<u8>) {
    let mid = format!("crash-mid-{i:04}");
    let body = serde_json::json!({"object": "instagram", "entry": [{"time": 1, "id": "17841400000000001", "messaging": [{
        "sender": {"id": "1098765432100001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_794_474_843_512u64 + i as u64,
        "message": {"mid": mid, "text": format!("message {i}")}}]}]});
    (mid, serde_json::to_vec(&body).unwrap())
}

#[test]
fn every_acknowledged_delivery_survives_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("connector.db");
    let port = free_port();
    let mut server = start(port, &db);
    let acked = Arc::new(AtomicUsize::new(0));
    let poster = {
        let acked = acked.clone();
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .into();
            let mut acknowledged = Vec::new();
            for i in 0..DELIVERIES {
                let (mid, body) = delivery(i);
                let signature = messenger_core::signature::sign(SECRET.as_bytes(), &body);
                // As Meta does: send again until a 200 comes back.
                loop {
                    let answer = agent
                        .post(format!("http://127.0.0.1:{port}/webhooks/instagram"))
                        .header("X-Hub-Signature-256", &signature)
                        .send(&body[..]);
                    if answer.is_ok_and(|r| r.status() == 200) {
                        acknowledged.push(mid);
                        acked.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            acknowledged
        })
    };
    let mut kills = 0;
    for threshold in [20, 50] {
        while acked.load(Ordering::SeqCst) < threshold {
            std::thread::sleep(Duration::from_millis(1));
        }
        server.kill().unwrap(); // SIGKILL: no graceful anything
        server.wait().unwrap();
        kills += 1;
        server = start(port, &db);
    }
    let acknowledged = poster.join().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!((kills, acknowledged.len()), (2, DELIVERIES));

    let output =
        Command::new(env!("CARGO_BIN_EXE_messenger-harness")).args(["events", "--db"]).arg(&db).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    let events: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    for mid in &acknowledged {
        let copies =
            events.iter().filter(|e| e["kind"] == "customer-message" && e["message-id"] == mid.as_str()).count();
        assert_eq!(copies, 1, "{mid} is stored {copies} times");
    }
    eprintln!(
        "{} deliveries acknowledged across {kills} SIGKILLs; {} events stored, each once",
        acknowledged.len(),
        events.len()
    );
}
