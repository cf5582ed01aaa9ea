//! A hostile plugin (tests/guests/hostile) against the harness: each protection stops it, only that call fails,
//! nothing it did is stored, and the next call works.

use messenger_core::inbound::Delivery;
use messenger_harness::{CallError, Harness, HarnessConfig};
use messenger_harness::{Database, Namespace};
use messenger_test_support::*;
use std::time::{Duration, Instant};

fn hostile(database: Database, tweak: impl FnOnce(&mut HarnessConfig)) -> Harness {
    let mut config = HarnessConfig::new(database);
    config.wasm = std::fs::read(HOSTILE_GUEST_COMPONENT).unwrap();
    config.channel = "c1".into();
    tweak(&mut config);
    Harness::new(config).unwrap()
}

fn run(harness: &Harness, body: &str) -> Result<Vec<messenger_core::events::InboxEvent>, CallError> {
    let delivery = Delivery { headers: vec![], body: body.as_bytes().to_vec(), received_at: 0 };
    harness.translate(&delivery, &options())
}

fn assert_fault(result: Result<Vec<messenger_core::events::InboxEvent>, CallError>, expected: &str) {
    match result {
        Err(CallError::PluginFault(why)) => assert!(why.contains(expected), "fault {why:?} lacks {expected:?}"),
        other => panic!("expected a plugin fault ({expected}), got {other:?}"),
    }
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline_and_the_next_call_works() {
    let harness = hostile(Database::in_memory().unwrap(), |c| c.limits.call_deadline = Duration::from_millis(100));
    let started = Instant::now();
    assert_fault(run(&harness, "loop"), "deadline");
    eprintln!("the infinite loop ran {:?} before it was stopped (deadline 100 ms)", started.elapsed());
    assert_eq!(run(&harness, "fine").unwrap(), vec![], "the next call works");
}

#[test]
fn a_guest_without_a_deadline_would_not_stop() {
    // The pair of the test above: with the deadline far away, the same loop is still running after a while, so it
    // is the deadline (not something else) that stops it.
    let harness = hostile(Database::in_memory().unwrap(), |c| c.limits.call_deadline = Duration::from_secs(3600));
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = run(&harness, "loop");
        let _ = done.send(());
    });
    assert!(finished.recv_timeout(Duration::from_millis(1500)).is_err(), "the loop ended by itself");
}

#[test]
fn an_allocation_bomb_hits_the_memory_cap_and_the_next_call_works() {
    let harness = hostile(Database::in_memory().unwrap(), |_| {});
    assert_eq!(harness_memory_cap(), 16 << 20);
    assert_fault(run(&harness, "alloc"), "memory limit");
    assert_eq!(run(&harness, "fine").unwrap(), vec![]);
}

fn harness_memory_cap() -> usize {
    messenger_harness::Limits::default().memory_bytes
}

#[test]
fn a_panic_is_a_plugin_fault_that_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let harness = hostile(Database::open(&path, 1).unwrap(), |_| {});
    let before = stored_rows(&path);
    assert_fault(run(&harness, "panic"), "trapped");
    assert_eq!(stored_rows(&path), before);
    assert_eq!(run(&harness, "fine").unwrap(), vec![]);
}

#[test]
fn egress_outside_the_allowlist_is_denied_logged_and_typed() {
    let harness = hostile(Database::in_memory().unwrap(), |_| {});
    for url in [
        "https://evil.example.com/steal?token=t",
        "http://graph.facebook.com/v23.0/me",
        "https://graph.facebook.com.evil.example/x",
        "https://user:pw@graph.facebook.com/x",
        "https://127.0.0.1:1/x",
        "file:///etc/passwd",
    ] {
        match run(&harness, &format!("egress {url}")) {
            Err(CallError::Rejected(e)) => assert_eq!(e.code, "egress-denied", "{url}: {}", e.message),
            other => panic!("{url}: {other:?}"),
        }
    }
    let log = harness.egress_denials();
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(log[0].ends_with("https://evil.example.com"), "{log:?}");
    assert!(
        log.iter().all(|entry| !entry.contains("token=t") && !entry.contains("pw")),
        "no secrets in the log: {log:?}"
    );
}

#[test]
fn storage_is_confined_to_the_channel_and_a_failed_call_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let database = Database::open(&path, 1).unwrap();
    database.provision(Namespace::new("instagram", "other").unwrap(), "mine", b"other-channel-secret").unwrap();
    let harness = hostile(database, |_| {});
    let Err(CallError::Rejected(report)) = run(&harness, "storage mine") else {
        panic!("the guest reports what it saw")
    };
    assert_eq!(report.code, "storage-seen");
    assert!(
        report.message.starts_with("mine=here") && !report.message.contains("other-channel-secret"),
        "{}",
        report.message
    );
    assert!(report.message.ends_with("listed: mine"), "{}", report.message);
    let rows = stored_rows(&path);
    assert_eq!(
        rows,
        [("instagram/other".to_string(), "mine".to_string())],
        "the refused call's own write was rolled back"
    );
}

#[test]
fn redirects_are_not_followed_and_oversized_answers_are_cut() {
    let graph = FakeGraph::start(|seen| {
        if seen.url.contains("1098765432100001") {
            (302, String::new())
        } else {
            (200, format!("{{\"name\":\"{}\"}}", "x".repeat(2 << 20)))
        }
    });
    let harness = harness(Database::in_memory().unwrap(), &graph);
    let events = harness.translate(&signed_delivery("text.json", 0), &options()).unwrap();
    assert!(events[0].customer.as_ref().unwrap().profile_pending, "a redirect is not a profile");
    let events = harness.translate(&signed_delivery("image.json", 0), &options()).unwrap();
    assert!(events[0].customer.as_ref().unwrap().profile_pending, "a 2 MiB answer is over the 1 MiB cap");
    assert_eq!(graph.requests().len(), 2, "the redirect was not followed");
}

#[test]
fn wasi_grants_no_environment_arguments_or_files() {
    let harness = hostile(Database::in_memory().unwrap(), |_| {});
    assert!(std::env::vars().count() > 0, "the host process has an environment to leak");
    let Err(CallError::Rejected(report)) = run(&harness, "wasi") else { panic!("the guest reports what it got") };
    assert_eq!(report.message, "env=0 args=0 files=false");
}

#[test]
fn a_write_flood_is_stopped_at_the_per_call_write_cap_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    // The guest-time deadline far away: only the write cap may stop it.
    let harness = hostile(Database::open(&path, 1).unwrap(), |c| {
        c.limits.max_written_bytes = 4 << 20;
        c.limits.call_deadline = Duration::from_secs(60);
    });
    assert_fault(run(&harness, "write-flood"), "wrote more");
    assert!(stored_rows(&path).is_empty(), "nothing of the flood was stored");
    assert_eq!(run(&harness, "fine").unwrap(), vec![]);
}

#[test]
fn a_loop_of_host_calls_is_stopped_at_the_per_call_cap() {
    let harness = hostile(Database::in_memory().unwrap(), |c| {
        c.limits.max_host_calls = 1_000;
        c.limits.call_deadline = Duration::from_secs(60);
    });
    assert_fault(run(&harness, "import-flood"), "host calls");
}

#[test]
fn time_waiting_on_graph_counts_toward_the_wall_clock_limit() {
    let graph = FakeGraph::start(|_| {
        std::thread::sleep(Duration::from_millis(300));
        (200, "{}".into())
    });
    let harness = hostile(Database::in_memory().unwrap(), |c| {
        c.limits.call_wall_clock = Duration::from_secs(1);
        c.limits.call_deadline = Duration::from_secs(60);
        c.egress = messenger_harness::EgressPolicy::default().with_graph_url(&graph.url()).unwrap();
    });
    let started = Instant::now();
    assert_fault(run(&harness, "egress-loop https://graph.facebook.com/v23.0/me"), "wall-clock");
    assert!(started.elapsed() < Duration::from_secs(3), "stopped after {:?}", started.elapsed());
}
