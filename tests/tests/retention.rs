//! Retention: raw bodies are emptied first, then deliveries and their events go; activity rows go but the latest
//! per account and per customer; what is younger stays; and `serve` prunes in the background.

use messenger_harness::retention::{Pruned, Retention, prune};
use messenger_harness::{Database, Namespace, ServeConfig, journal, serve as spawn};
use messenger_test_support::*;
use std::time::Duration;

const DAY: u64 = 86_400_000;

/// Four deliveries for one customer (40, 40, 5 and 0 days old), pruned with the defaults: what each kind lost.
fn record_and_prune(database: &Database, graph: &FakeGraph) -> Pruned {
    let harness = harness(database.clone(), graph);
    let now = messenger_harness::now_ms();
    for (i, age) in [40 * DAY, 40 * DAY, 5 * DAY, 0].iter().enumerate() {
        let (body, signature) =
            signed_item("17841400000000001", "1000000000000001", now - age, "message", &format!("r-{i}"));
        let headers = vec![("X-Hub-Signature-256".into(), signature)];
        let delivery = messenger_core::inbound::Delivery { headers, body, received_at: now - age };
        harness.translate_recorded(&delivery, &options()).unwrap();
    }
    prune(database, &Namespace::new("instagram", "default").unwrap(), now, &Retention::default()).unwrap()
}

#[test]
fn the_same_on_postgres() {
    let postgres = pg::Postgres::start();
    let database = Database::connect(&postgres.create_database("retention"), 2).unwrap();
    let graph = FakeGraph::with_profiles();
    assert_eq!(
        record_and_prune(&database, &graph),
        Pruned { bodies: 3, events: 2, deliveries: 2, activity: 4, dedup_marks: 0 }
    );
    let texts: Vec<_> = journal::events(&database, &Namespace::new("instagram", "default").unwrap()).unwrap();
    assert_eq!(texts.len(), 2);
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).unwrap().query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn old_bodies_events_and_activity_are_pruned_and_the_rest_kept() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let database = Database::open(&path, 2).unwrap();
    let pruned = record_and_prune(&database, &graph);
    let namespace = Namespace::new("instagram", "default").unwrap();
    let now = messenger_harness::now_ms();
    assert_eq!(pruned, Pruned { bodies: 3, events: 2, deliveries: 2, activity: 4, dedup_marks: 0 }, "{pruned:?}");
    let texts: Vec<String> = journal::events(&database, &namespace)
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["hello r-2", "hello r-3"], "younger than 30 days: kept");
    assert_eq!(count(&path, "SELECT count(*) FROM deliveries WHERE length(body) > 0"), 1, "only today's raw body");
    assert_eq!(count(&path, "SELECT count(*) FROM account_activity"), 2, "the 5-day-old and the latest");
    assert_eq!(prune(&database, &namespace, now, &Retention::default()).unwrap(), Pruned::default(), "idempotent");

    // Dedup marks go once they are older than any redelivery; the plugin's other keys stay.
    let (marks, others) =
        ("SELECT count(*) FROM kv WHERE key LIKE 'seen/%'", "SELECT count(*) FROM kv WHERE key NOT LIKE 'seen/%'");
    let (marked, kept) = (count(&path, marks), count(&path, others));
    assert_eq!(marked, 4, "one mark per message");
    let century = Duration::from_secs(100 * 365 * 86_400);
    let keep_all_but_marks = Retention {
        events: century,
        raw_bodies: century,
        activity: century,
        dedup_marks: Duration::from_millis(14 * DAY),
    };
    let pruned = prune(&database, &namespace, now + 13 * DAY, &keep_all_but_marks).unwrap();
    assert_eq!(pruned.dedup_marks, 0, "13 days old: kept");
    let pruned = prune(&database, &namespace, now + 15 * DAY, &keep_all_but_marks).unwrap();
    assert_eq!(pruned, Pruned { dedup_marks: 4, ..Pruned::default() });
    assert_eq!((count(&path, marks), count(&path, others)), (0, kept));

    // serve prunes on its own.
    let config = ServeConfig {
        retention: Retention {
            raw_bodies: Duration::ZERO,
            events: Duration::ZERO,
            activity: Duration::ZERO,
            dedup_marks: Duration::ZERO,
        },
        prune_every: Duration::from_millis(50),
        ..quick_serve_config()
    };
    let server = spawn(messenger_test_support::harness(database.clone(), &graph), config).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    server.stop().unwrap();
    assert_eq!(count(&path, "SELECT count(*) FROM events"), 0, "{:?}", journal::events(&database, &namespace));
}
