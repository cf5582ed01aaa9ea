//! `GET /api/events`: every stored event once, in commit order, paged with opaque cursors; a long poll woken by a
//! delivery at once; bad parameters refused with a JSON code; and on PostgreSQL, two nodes whose transactions
//! commit out of id order: a reader never skips the event that commits late.

use messenger_core::events::{EventKind, InboxEvent, Postback};
use messenger_harness::{Database, Namespace, ServeConfig, ServerHandle, feed, journal, serve as spawn};
use messenger_test_support::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn start(database: Database, graph: &FakeGraph, tweak: impl FnOnce(&mut ServeConfig)) -> ServerHandle {
    let mut config = quick_serve_config();
    tweak(&mut config);
    spawn(harness(database, graph), config).unwrap()
}

fn deliver(server: &ServerHandle, fixture: &str) {
    let signature = signature_of(fixture);
    let (status, body) = post(server, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &webhook(fixture));
    assert_eq!(status, 200, "{fixture}: {body}");
}

fn namespace() -> Namespace {
    Namespace::new("instagram", "default").unwrap()
}

/// The events without their cursors, as the journal holds them.
/// The events as stored: without the feed's `cursor`, and without its `channel` (checked to be the default).
fn without_cursors(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("cursor");
            assert_eq!(e.as_object_mut().unwrap().remove("channel"), Some(Value::from("default")));
            e
        })
        .collect()
}

#[test]
fn paging_with_limit_1_gives_every_event_once_in_commit_order() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    let database = Database::open(&dir.path().join("c.db"), 4).unwrap();
    let server = start(database.clone(), &graph, |_| {});
    let names = webhook_fixture_names();
    for name in &names[..names.len() / 2] {
        deliver(&server, name);
    }
    let (first, next) = read_feed(server.addr, "", "", 1);
    for name in &names[names.len() / 2..] {
        deliver(&server, name);
    }
    let (rest, last) = read_feed(server.addr, "", &next, 1);
    let all: Vec<Value> = first.iter().chain(&rest).cloned().collect();
    assert_eq!(without_cursors(&all), journal::events(&database, &namespace()).unwrap(), "every event, once, in order");
    assert!(all.len() > 29, "{}", all.len());
    let mut cursors: Vec<&str> = all.iter().map(|e| e["cursor"].as_str().unwrap()).collect();
    cursors.dedup();
    assert_eq!(cursors.len(), all.len(), "each event has a cursor of its own");
    assert_eq!(last, *cursors.last().unwrap(), "next is the last event's cursor");
    // Big pages give the same.
    assert_eq!(read_feed(server.addr, "", "", 1000).0, all);
    // Refusals, each with a code.
    for (query, code) in [
        ("after=12", "invalid-cursor"),
        ("limit=0", "invalid-argument"),
        ("limit=1001", "invalid-argument"),
        ("limit=many", "invalid-argument"),
        ("wait=61", "invalid-argument"),
        ("channel=no%2Fslash", "invalid-channel"),
    ] {
        let (status, body) = api_get(server.addr, &format!("/api/events?{query}"));
        let answer: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{query}: not JSON: {body}"));
        assert_eq!((status, answer["error"]["code"].as_str()), (400, Some(code)), "{query}: {body}");
    }
    // Another channel's feed is empty.
    assert_eq!(read_feed(server.addr, "&channel=other", "", 10).0, Vec::<Value>::new());
}

#[test]
fn a_long_poll_wakes_within_100_ms_of_a_delivery() {
    let graph = FakeGraph::with_profiles();
    let dir = tempfile::tempdir().unwrap();
    // Polling the store is slow here: only the delivery's own wake-up can be quick enough.
    let server =
        start(Database::open(&dir.path().join("c.db"), 4).unwrap(), &graph, |c| c.feed_poll = Duration::from_secs(30));
    deliver(&server, "text.json");
    let (_, next) = read_feed(server.addr, "", "", 100);
    let addr = server.addr;
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let (status, body) = api_get(addr, &format!("/api/events?after={next}&wait=20"));
        (status, serde_json::from_str::<Value>(&body).unwrap(), Instant::now(), started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(500));
    deliver(&server, "image.json");
    let answered = Instant::now();
    let (status, page, woke, waited) = waiting.join().unwrap();
    assert_eq!(status, 200);
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
    assert!(waited >= Duration::from_millis(450), "it waited for the delivery: {waited:?}");
    let late = woke.saturating_duration_since(answered);
    assert!(late < Duration::from_millis(100), "woke {late:?} after the delivery was acknowledged");
    // With nothing new, a wait ends empty when it runs out.
    let (_, next) = read_feed(server.addr, "", "", 100);
    let started = Instant::now();
    let (status, body) = api_get(server.addr, &format!("/api/events?after={next}&wait=1"));
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["next"].as_str()), (200, Some(&*next)));
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
}

fn postback(n: u64) -> InboxEvent {
    let kind = EventKind::Postback(Postback {
        message_id: Some(format!("mid-{n}")),
        customer_id: "1098765432100001".into(),
        timestamp: 1_794_474_843_000 + n,
        title: format!("button {n}"),
        payload: format!("P{n}"),
    });
    InboxEvent::new("17841400000000001".into(), kind, None)
}

fn titles(events: &[feed::FeedEvent]) -> Vec<String> {
    events.iter().map(|e| e.event["title"].as_str().unwrap().to_owned()).collect()
}

/// Node A takes the lower id and commits last: a reader that has seen node B's event must still get A's.
#[test]
fn on_postgres_an_event_committing_after_a_higher_id_is_not_skipped() {
    let postgres = pg::Postgres::start();
    let url = postgres.create_database("feed");
    let (a, b, reader) =
        (Database::connect(&url, 2).unwrap(), Database::connect(&url, 2).unwrap(), Database::connect(&url, 2).unwrap());
    let slow = a.begin(namespace()).unwrap();
    journal::record_delivery(&slow, 1, b"{}", &[postback(1)]).unwrap(); // id 1, not committed yet
    let quick = b.begin(namespace()).unwrap();
    journal::record_delivery(&quick, 2, b"{}", &[postback(2)]).unwrap(); // id 2
    quick.commit().unwrap();
    let seen = feed::read(&reader, &namespace(), feed::Position::START, 10).unwrap();
    // Handing out event 2 now would move the reader past the place event 1 commits into.
    assert!(seen.is_empty(), "nothing is handed out while an older transaction runs: {:?}", titles(&seen));
    slow.commit().unwrap();
    let after = seen.last().map_or(feed::Position::START, |e| e.position);
    let rest = feed::read(&reader, &namespace(), after, 10).unwrap();
    assert_eq!(titles(&rest), ["button 1", "button 2"], "both, in commit-safe order");

    // Interleaved the other way round, many times, read as they commit: every event once.
    let mut expected = Vec::new();
    let mut position = rest.last().unwrap().position;
    let mut got = Vec::new();
    for round in 0..20u64 {
        let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let early = first.begin(namespace()).unwrap();
        journal::record_delivery(&early, 1, b"{}", &[postback(10 + 2 * round)]).unwrap();
        let late = second.begin(namespace()).unwrap();
        journal::record_delivery(&late, 1, b"{}", &[postback(11 + 2 * round)]).unwrap();
        late.commit().unwrap();
        let page = feed::read(&reader, &namespace(), position, 1).unwrap();
        got.extend(titles(&page));
        position = page.last().map_or(position, |e| e.position);
        early.commit().unwrap();
        expected.extend([format!("button {}", 10 + 2 * round), format!("button {}", 11 + 2 * round)]);
    }
    loop {
        let page = feed::read(&reader, &namespace(), position, 1).unwrap();
        let Some(last) = page.last() else { break };
        position = last.position;
        got.extend(titles(&page));
    }
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "every event once");
}

/// Two serve nodes on one PostgreSQL, deliveries posted to both at once while a third reader pages the feed:
/// every delivery's event is read exactly once.
#[test]
fn two_nodes_on_postgres_feed_every_event_once_while_writing() {
    let postgres = pg::Postgres::start();
    let url = postgres.create_database("feed2");
    let graph = FakeGraph::with_profiles();
    let nodes: Vec<ServerHandle> =
        (0..2).map(|i| start(Database::connect(&url, 4).unwrap(), &graph, |c| c.node = format!("node-{i}"))).collect();
    let addrs: Vec<_> = nodes.iter().map(|n| n.addr).collect();
    const N: usize = 60;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let addr = addrs[w];
            std::thread::spawn(move || {
                for i in (w..N).step_by(2) {
                    let body = serde_json::to_vec(&serde_json::json!({"object": "instagram", "entry": [{"time": 1,
                        "id": "17841400000000001", "messaging": [{"sender": {"id": "1098765432100001"},
                        "recipient": {"id": "17841400000000001"}, "timestamp": 1_794_474_843_512u64 + i as u64,
                        "message": {"mid": format!("feed-mid-{i:03}"), "text": format!("m{i}")}}]}]}))
                    .unwrap();
                    let signature = sign(APP_SECRET, &body);
                    let (status, _) =
                        post_to(addr, "/webhooks/instagram", &[("X-Hub-Signature-256", &signature)], &body);
                    assert_eq!(status, 200);
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut after = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < N && Instant::now() < deadline {
        let (events, next) = read_feed(addrs[seen.len() % 2], "", &after, 3);
        seen.extend(events.iter().filter_map(|e| e["message-id"].as_str().map(str::to_owned)));
        after = next;
    }
    writers.into_iter().for_each(|w| w.join().unwrap());
    let (events, _) = read_feed(addrs[0], "&wait=1", &after, 3);
    seen.extend(events.iter().filter_map(|e| e["message-id"].as_str().map(str::to_owned)));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (N, N), "every event exactly once: {seen:?}");
}
