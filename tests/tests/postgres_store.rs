//! The storage contract on PostgreSQL, as on SQLite: atomic first-writer-wins and compare-and-swap (also between
//! two nodes' pools at the same moment), byte-ordered key pages, discarded writes on rollback, migrations run
//! once by nodes starting together, queue claims and notices between nodes, TLS, and a clear error for a
//! database that is not there.

use messenger_core::events::{EventKind, InboxEvent, Postback};
use messenger_core::ports::Storage;
use messenger_harness::{Database, Namespace, activity, journal};
use messenger_test_support::pg::Postgres;
use std::sync::Barrier;

fn namespace(channel: &str) -> Namespace {
    Namespace::new("instagram", channel).unwrap()
}

#[test]
fn the_store_contract_holds_on_postgres() {
    let postgres = Postgres::start();
    let url = postgres.create_database("contract");
    let database = Database::connect(&url, 2).unwrap();
    assert!(Database::connect(&url, 1).is_ok(), "a second node's start migrates nothing twice");
    assert!(database.describe().starts_with("PostgreSQL 127.0.0.1:"), "{}", database.describe());
    assert!(!database.describe().contains("connector@"), "no user or password in logs");

    let s = database.begin(namespace("c1")).unwrap();
    assert!(s.insert_if_absent("seen/1", b"a").unwrap());
    assert!(!s.insert_if_absent("seen/1", b"b").unwrap());
    assert!(s.compare_and_swap("k", None, b"1").unwrap());
    assert!(!s.compare_and_swap("k", Some(b"0"), b"2").unwrap());
    assert!(s.compare_and_swap("k", Some(b"1"), b"2").unwrap());
    // Byte order, as SQLite compares: 'B' < 'a' < 'é' (a locale-aware collation would say otherwise).
    for key in ["p/é", "p/a", "p/B", "q/1"] {
        s.set(key, &[0, 255]).unwrap();
    }
    let (page, cursor) = s.list_keys("p/", None, 2).unwrap();
    assert_eq!((page, cursor.clone()), (vec!["p/B".to_string(), "p/a".to_string()], Some("p/a".to_string())));
    assert_eq!(s.list_keys("p/", cursor.as_deref(), 2).unwrap(), (vec!["p/é".to_string()], None));
    s.commit().unwrap();

    let other = database.begin(namespace("c2")).unwrap();
    assert_eq!(other.get("k").unwrap(), None, "channels do not see each other");
    drop(other);
    let s = database.begin(namespace("c1")).unwrap();
    assert_eq!(s.get("p/a").unwrap().as_deref(), Some(&[0u8, 255][..]), "bytes kept exactly");
    s.set("gone", b"1").unwrap();
    drop(s);
    let s = database.begin(namespace("c1")).unwrap();
    assert_eq!(s.get("gone").unwrap(), None, "a dropped session's writes are discarded");
    s.rollback().unwrap();
}

#[test]
fn nodes_starting_together_on_an_empty_database_migrate_it_once() {
    let postgres = Postgres::start();
    let url = postgres.create_database("fresh");
    let together = Barrier::new(4);
    std::thread::scope(|s| {
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let (url, together) = (&url, &together);
                s.spawn(move || {
                    together.wait();
                    Database::connect(url, 1).map(drop)
                })
            })
            .collect();
        for start in starts {
            start.join().unwrap().unwrap();
        }
    });
    let output = std::process::Command::new("psql")
        .args([url.as_str(), "-tAc", "SELECT count(*) > 1 AND count(*) = max(version) FROM schema_migrations"])
        .output()
        .expect("psql runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "t", "every migration, each recorded once");
}

#[test]
fn two_nodes_racing_for_one_key_get_one_winner_each_time() {
    let postgres = Postgres::start();
    let url = postgres.create_database("race");
    let nodes = [Database::connect(&url, 1).unwrap(), Database::connect(&url, 1).unwrap()];
    for round in 0..50 {
        let key = format!("seen/mid/{round}");
        let together = Barrier::new(2);
        let wins: Vec<bool> = std::thread::scope(|s| {
            let racers: Vec<_> = nodes
                .iter()
                .map(|db| {
                    let (key, together) = (&key, &together);
                    s.spawn(move || {
                        let session = db.begin(namespace("c1")).unwrap();
                        together.wait();
                        let won = session.insert_if_absent(key, b"x").unwrap();
                        session.commit().unwrap();
                        won
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "round {round}: {wins:?}");
    }
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let error = Database::connect(&format!("postgres://nobody@127.0.0.1:{port}/none"), 1).err().unwrap();
    let text = format!("{error:#}");
    assert!(text.contains(&format!("connecting to PostgreSQL 127.0.0.1:{port}/none")), "{text}");
    assert!(Database::from_spec("postgres://x@127.0.0.1:1/db?sslmode=bogus", 1).is_err());
}

#[test]
fn queue_claims_and_notices_hold_between_two_nodes() {
    use messenger_core::outbound::{PlannedMessage, SendPlan};
    use messenger_harness::{Outbox, ReplyStatus, Submitted, journal};
    use std::time::Duration;
    let plan = |text: &str| SendPlan {
        account_id: "17841400000000001".into(),
        customer_id: "1098765432100001".into(),
        messages: vec![PlannedMessage::Text(text.into())],
        tag: None,
        window_closes_at: 0,
    };
    let postgres = Postgres::start();
    let url = postgres.create_database("queue");
    let (a, b) = (Database::connect(&url, 1).unwrap(), Database::connect(&url, 1).unwrap());
    let ns = namespace("c1");
    let lease = Duration::from_secs(60);
    let (node_a, node_b) =
        (Outbox::new(a.clone(), ns.clone(), "a", lease), Outbox::new(b.clone(), ns.clone(), "b", lease));
    for i in 0..4 {
        node_a.enqueue(&plan(&i.to_string()), 0).unwrap();
    }
    // A reply submitted to one node and again, with the same idempotency key, to another: queued once.
    let keyed = plan("keyed");
    let Submitted::Leased(first) = node_a.submit(&keyed, Some("k-1")).unwrap() else {
        panic!("the first submission is queued and leased")
    };
    let again = node_b.submit(&keyed, Some("k-1")).unwrap();
    assert!(matches!(again, Submitted::Existing(id) if id == first.id), "found, not queued twice");
    let first = node_a.claim(1000, 3).unwrap();
    let second = node_b.claim(1000, 3).unwrap();
    assert_eq!((first.len(), second.len()), (3, 1), "no reply is claimed twice");
    assert!(node_b.claim(1000 + 59_000, 10).unwrap().is_empty(), "a's lease still runs");
    let taken = node_b.claim(1000 + 61_000, 10).unwrap();
    assert_eq!(taken.len(), 4, "every lease ran out (a's three, b's one): b takes them all");
    assert!(!node_a.settle(&first[0], ReplyStatus::Sent, 0, &[]).unwrap(), "a lost them");
    assert!(!node_a.mark_in_flight(&first[0]).unwrap(), "and may not send them");
    // b sent the plan's first message, and marks the next in flight with what remains; then it dies.
    let remaining = messenger_harness::Queued { plan: plan("what remains"), ..taken[0].clone() };
    assert!(node_b.mark_in_flight(&remaining).unwrap());
    let after_crash = node_a.claim(1000 + 200_000, 10).unwrap();
    let resumed = after_crash.iter().find(|q| q.id == taken[0].id).unwrap();
    assert_eq!(after_crash.iter().filter(|q| q.in_flight).count(), 1);
    assert!(resumed.in_flight, "the next holder learns that a send was in flight");
    assert_eq!(resumed.plan, remaining.plan, "and resumes from what remained, not from the sent message");

    // Two nodes decided on the same reading (no notice yet): one stores it.
    let event = serde_json::json!({"kind": "owner-notice", "account-id": "1"});
    assert!(journal::store_notice(&a, &ns, "1", None, 5, &event).unwrap());
    assert!(!journal::store_notice(&b, &ns, "1", None, 6, &event).unwrap());
    assert_eq!(journal::last_notice(&b, &ns, "1").unwrap(), Some(5));
    assert_eq!(journal::events(&b, &ns).unwrap().len(), 1, "one notice event");
    assert!(journal::store_notice(&b, &ns, "1", Some(5), 7, &event).unwrap(), "the next period's notice");
}

#[test]
fn compare_and_swap_loses_no_update_between_two_nodes() {
    // The send budget and the link records are read-then-compare-and-swap loops; under contention from two
    // nodes, every increment must land exactly once.
    let postgres = Postgres::start();
    let url = postgres.create_database("counter");
    let nodes = [Database::connect(&url, 2).unwrap(), Database::connect(&url, 2).unwrap()];
    const EACH: usize = 50;
    std::thread::scope(|s| {
        for db in nodes.iter().chain(nodes.iter()) {
            s.spawn(move || {
                for _ in 0..EACH {
                    loop {
                        let session = db.begin(namespace("c1")).unwrap();
                        let current = session.get("budget").unwrap();
                        let next =
                            current.as_deref().map_or(0, |v| std::str::from_utf8(v).unwrap().parse().unwrap()) + 1u64;
                        if session.compare_and_swap("budget", current.as_deref(), next.to_string().as_bytes()).unwrap()
                        {
                            session.commit().unwrap();
                            break;
                        }
                    }
                }
            });
        }
    });
    let session = nodes[0].begin(namespace("c1")).unwrap();
    assert_eq!(session.get("budget").unwrap().as_deref(), Some((4 * EACH).to_string().as_bytes()));
}

/// How many of the server's connections are encrypted, asked over a plain connection of psql's own.
fn encrypted_connections(url: &str) -> usize {
    let output = std::process::Command::new("psql")
        .args([&format!("{url}?sslmode=disable"), "-tAc", "SELECT count(*) FROM pg_stat_ssl WHERE ssl"])
        .output()
        .expect("psql (Debian's postgresql-client) runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap()
}

#[test]
fn tls_is_used_when_offered_and_a_named_ca_is_enforced() {
    let postgres = Postgres::start_with_tls();
    let url = postgres.create_database("tls");
    assert_eq!(encrypted_connections(&url), 0);
    // No CA named: encrypted, whatever the certificate (libpq's sslmode=prefer/require).
    let database = Database::connect_with_ca(&url, 1, None).unwrap();
    assert_eq!(encrypted_connections(&url), 1, "the pool's connection is encrypted");
    drop(database);
    // The server's own certificate as the CA: verified, by chain and by name (127.0.0.1).
    let verified = Database::connect_with_ca(&format!("{url}?sslmode=require"), 1, Some(&postgres.certificate()));
    assert!(verified.is_ok(), "{:#}", verified.err().unwrap());
    // Another CA: refused.
    let other = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("openssl")
        .current_dir(other.path())
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-keyout", "other.key", "-out", "other.crt"])
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let refused = Database::connect_with_ca(&url, 1, Some(&other.path().join("other.crt"))).err().unwrap();
    assert!(format!("{refused:#}").contains("certificate"), "{refused:#}");
}

#[test]
fn a_buffered_call_that_lost_a_race_on_postgres_commits_nothing() {
    // A component call's writes wait in its session; at commit PostgreSQL decides its insert-if-absent again.
    let postgres = Postgres::start();
    let url = postgres.create_database("buffered");
    let nodes = [Database::connect(&url, 2).unwrap(), Database::connect(&url, 2).unwrap()];
    let calls = nodes.each_ref().map(|db| db.begin_call(namespace("c1"), messenger_harness::Writes::Buffered));
    for call in &calls {
        assert!(call.insert_if_absent("seen/1", b"in").unwrap());
        call.set("note", b"x").unwrap();
    }
    let [first, second] = calls;
    first.commit().unwrap();
    let lost = second.commit().unwrap_err();
    assert!(lost.chain().any(|e| e.is::<messenger_harness::Conflict>()), "{lost:#}");
    // A delivery's marks go to PostgreSQL in one statement: one taken among them loses the whole call.
    let third = nodes[1].begin_call(namespace("c1"), messenger_harness::Writes::Buffered);
    for key in ["seen/5", "seen/6", "seen/7"] {
        assert!(third.insert_if_absent(key, b"in").unwrap(), "{key}");
    }
    nodes[0].provision(namespace("c1"), "seen/6", b"in").unwrap();
    let lost = third.commit().unwrap_err();
    assert!(lost.chain().any(|e| e.is::<messenger_harness::Conflict>()), "{lost:#}");
    assert!(lost.to_string().contains("seen/6"), "names the mark taken: {lost:#}");
    let read = nodes[0].begin(namespace("c1")).unwrap();
    assert_eq!(read.get("seen/5").unwrap(), None, "nothing of the lost call");
}

#[test]
fn a_delivery_with_its_events_and_activity_reads_back_the_same_on_postgres_as_on_sqlite() {
    // PostgreSQL stores a delivery, its events in order and their activity in one statement; SQLite row by row.
    let postgres = Postgres::start();
    let url = postgres.create_database("journal");
    let (account, customers) = ("17841400000000001", ["1098765432100001", "1098765432100002"]);
    let postback = |n: u64, customer: &str| {
        let kind = EventKind::Postback(Postback {
            message_id: Some(format!("mid-{n}")),
            customer_id: customer.into(),
            timestamp: 1_794_474_843_000 + n,
            title: format!("button {n}"),
            payload: format!("P{n}"),
        });
        InboxEvent::new(account.into(), kind, None)
    };
    let events = [postback(3, customers[0]), postback(1, customers[1]), postback(2, customers[0])];
    let ns = namespace("c1");
    let read = |db: &Database| {
        db.transaction(&ns, |s| journal::record_delivery(s, 1_794_474_843_900, b"{\"entry\":[]}", &events)).unwrap();
        let titles: Vec<String> = journal::events(db, &ns).unwrap().iter().map(|e| e["title"].to_string()).collect();
        let windows = customers.map(|c| activity::last_customer_message(db, &ns, account, c).unwrap());
        (titles, activity::last_webhook(db, &ns, account).unwrap(), windows)
    };
    let on_postgres = read(&Database::connect(&url, 2).unwrap());
    assert_eq!(on_postgres, read(&Database::in_memory().unwrap()));
    let (titles, last_webhook, windows) = on_postgres;
    assert_eq!(titles, ["\"button 3\"", "\"button 1\"", "\"button 2\""], "in the delivery's order");
    assert_eq!(last_webhook, Some(1_794_474_843_900));
    assert_eq!(windows, [Some(1_794_474_843_003), Some(1_794_474_843_001)]);
}
