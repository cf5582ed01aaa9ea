//! The expiry scheduler after a restart: it runs at once, not an interval later. A node gives its lease back when
//! it stops, so the next node (the same deployment restarted) takes it at start.

use messenger_harness::{Database, ServeConfig, ServerHandle, serve as spawn};
use messenger_test_support::meta::provision_links;
use messenger_test_support::*;
use std::time::{Duration, Instant};

/// Two accounts expiring in 5 days: their owners are due a notice.
const A: &str = "17841400000000001";
const B: &str = "17841400000000002";

/// A serve node named `name` on the shared database.
fn node(name: &str, database: &Database, graph: &FakeGraph) -> ServerHandle {
    let config = ServeConfig {
        node: name.into(),
        owners: vec!["owner-1".into()],
        // An hour between runs, as in production: only the run at start can tell each node's notice.
        expiry_every: Duration::from_secs(3600),
        ..quick_serve_config()
    };
    spawn(harness(database.clone(), graph), config).unwrap()
}

/// Waits up to 10 s for an owner notice about `account`.
fn notice_arrives(server: &ServerHandle, account: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let (events, _) = read_feed(server.addr, "", "", 1000);
        if events.iter().any(|e| e["kind"] == "owner-notice" && e["account-id"] == account) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_restarted_node_runs_the_scheduler_at_start() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    provision_links(&database, &[(A, 55, 5, "5550001")], &[A]);
    let first = node("node-before-restart", &database, &graph);
    assert!(notice_arrives(&first, A), "the first node runs at start");
    first.stop().unwrap();

    // B starts expiring while the deployment restarts; the scheduler's lease was 2 minutes.
    provision_links(&database, &[(A, 55, 5, "5550001"), (B, 55, 5, "5550001")], &[A, B]);
    let second = node("node-after-restart", &database, &graph);
    assert!(notice_arrives(&second, B), "the restarted node runs at start, not after the old lease or an hour");
}
