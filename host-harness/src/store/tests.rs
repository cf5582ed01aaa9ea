//! The storage contract, on the SQLite backend (the PostgreSQL backend runs the same checks in tests/).

use super::*;
use messenger_core::ports::{Storage, StorageError};

fn session(db: &Database, channel: &str) -> Session {
    db.begin(Namespace::new("instagram", channel).unwrap()).unwrap()
}

#[test]
fn insert_if_absent_is_first_writer_wins() {
    let db = Database::in_memory().unwrap();
    let s = session(&db, "c1");
    assert!(s.insert_if_absent("seen/1", b"a").unwrap());
    assert!(!s.insert_if_absent("seen/1", b"b").unwrap());
    assert_eq!(s.get("seen/1").unwrap().as_deref(), Some(&b"a"[..]));
}

#[test]
fn compare_and_swap_needs_the_expected_value() {
    let db = Database::in_memory().unwrap();
    let s = session(&db, "c1");
    assert!(s.compare_and_swap("k", None, b"1").unwrap());
    assert!(!s.compare_and_swap("k", None, b"2").unwrap());
    assert!(!s.compare_and_swap("k", Some(b"0"), b"2").unwrap());
    assert!(s.compare_and_swap("k", Some(b"1"), b"2").unwrap());
    assert_eq!(s.get("k").unwrap().as_deref(), Some(&b"2"[..]));
}

#[test]
fn channels_do_not_see_each_other() {
    let db = Database::in_memory().unwrap();
    let s = session(&db, "c1");
    s.set("account/1/access-token", b"secret").unwrap();
    s.commit().unwrap();
    let other = session(&db, "c2");
    assert_eq!(other.get("account/1/access-token").unwrap(), None);
    assert_eq!(other.list_keys("", None, 10).unwrap().0, Vec::<String>::new());
}

#[test]
fn rollback_and_drop_discard_writes() {
    let db = Database::in_memory().unwrap();
    let s = session(&db, "c1");
    s.set("a", b"1").unwrap();
    s.rollback().unwrap();
    let s = session(&db, "c1");
    s.set("b", b"1").unwrap();
    drop(s);
    let s = session(&db, "c1");
    assert_eq!((s.get("a").unwrap(), s.get("b").unwrap()), (None, None));
}

#[test]
fn lists_keys_by_prefix_in_pages() {
    let db = Database::in_memory().unwrap();
    let s = session(&db, "c1");
    for key in ["p/1", "p/2", "p/3", "q/1"] {
        s.set(key, b"").unwrap();
    }
    let (page, cursor) = s.list_keys("p/", None, 2).unwrap();
    assert_eq!((page, cursor.clone()), (vec!["p/1".to_string(), "p/2".to_string()], Some("p/2".to_string())));
    assert_eq!(s.list_keys("p/", cursor.as_deref(), 2).unwrap(), (vec!["p/3".to_string()], None));
}

#[test]
fn refuses_bad_keys_and_huge_values() {
    let db = Database::in_memory().unwrap();
    let s = session(&db, "c1");
    assert!(matches!(s.get(""), Err(StorageError::InvalidKey(_))));
    assert!(matches!(s.set(&"k".repeat(MAX_KEY_BYTES + 1), b""), Err(StorageError::InvalidKey(_))));
    assert!(matches!(s.set("k", &vec![0; MAX_VALUE_BYTES + 1]), Err(StorageError::TooLarge(_))));
}

#[test]
fn a_claim_is_leased_to_one_owner_until_it_expires_and_only_the_holder_settles() {
    let db = Database::in_memory().unwrap();
    let ns = Namespace::new("instagram", "c1").unwrap();
    let reply = NewReply { plan: "{}", next_attempt_at: 100, request_key: Some("k1"), lease: None };
    let id = db.transaction(&ns, |s| s.journal(|tx, ns| tx.enqueue(ns, &reply))).unwrap().unwrap();
    let again = db.transaction(&ns, |s| s.journal(|tx, ns| tx.enqueue(ns, &reply))).unwrap();
    assert_eq!(again, None, "the same request key queues nothing twice");
    let claim = |owner: &str, now: i64| {
        let claim = Claim { now, holder: owner, lease_until: now + 1000, limit: 10 };
        db.transaction(&ns, |s| s.journal(|tx, ns| tx.claim_due(ns, &claim))).unwrap()
    };
    assert!(claim("a", 50).is_empty(), "not due yet");
    assert_eq!(claim("a", 100).iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
    assert!(claim("b", 200).is_empty(), "leased to a");
    let taken = claim("b", 1200);
    assert_eq!(taken.len(), 1, "a's lease ran out: b takes it over");
    let settlement =
        Settlement { status: "sent", plan: "{}", attempts: 1, next_attempt_at: 0, report: "[]", settled_at: Some(1) };
    let settle = |owner: &str| db.transaction(&ns, |s| s.journal(|tx, _| tx.settle(id, owner, &settlement))).unwrap();
    assert!(!settle("a"), "a no longer holds it");
    assert!(settle("b"));
    assert!(claim("c", 5000).is_empty(), "settled");
}

#[test]
fn a_notice_moves_once_from_what_was_read() {
    let db = Database::in_memory().unwrap();
    let ns = Namespace::new("instagram", "c1").unwrap();
    let swap =
        |expected, at| db.transaction(&ns, |s| s.journal(|tx, ns| tx.swap_notice(ns, "1", expected, at))).unwrap();
    assert!(swap(None, 10));
    assert!(!swap(None, 11), "someone noticed first");
    assert!(!swap(Some(9), 12));
    assert!(swap(Some(10), 20));
}

#[test]
fn a_lease_is_held_until_it_expires_or_renewed_by_its_holder() {
    let db = Database::in_memory().unwrap();
    let ns = Namespace::new("instagram", "c1").unwrap();
    let take = |owner: &str, now| {
        db.transaction(&ns, |s| s.journal(|tx, _| tx.take_lease("x", owner, now, now + 100))).unwrap()
    };
    assert!(take("a", 0));
    assert!(!take("b", 50));
    assert!(take("a", 60), "renewed");
    assert!(!take("b", 150));
    assert!(take("b", 161));
}

fn file_db(dir: &tempfile::TempDir, connections: usize) -> Database {
    Database::open(&dir.path().join("c.db"), connections).unwrap()
}

#[test]
fn a_buffered_call_holds_no_lock_and_sees_its_own_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, 2);
    let ns = Namespace::new("instagram", "c1").unwrap();
    let call = db.begin_call(ns.clone(), Writes::Buffered);
    assert!(call.insert_if_absent("seen/1", b"in").unwrap());
    call.set("p/2", b"x").unwrap();
    call.delete("p/1").unwrap();
    assert_eq!(call.get("seen/1").unwrap().as_deref(), Some(&b"in"[..]), "its own write");
    // Meanwhile another writer commits at once: the call holds no write lock (before, BEGIN IMMEDIATE did).
    db.provision(ns.clone(), "p/1", b"other").unwrap();
    db.provision(ns.clone(), "p/3", b"other").unwrap();
    assert_eq!(call.list_keys("p/", None, 10).unwrap().0, ["p/2", "p/3"], "its delete hides p/1");
    call.commit().unwrap();
    let s = db.begin(ns).unwrap();
    assert_eq!(s.get("p/1").unwrap(), None);
    assert_eq!(s.get("seen/1").unwrap().as_deref(), Some(&b"in"[..]));
}

#[test]
fn a_buffered_call_that_lost_a_race_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, 2);
    let ns = Namespace::new("instagram", "c1").unwrap();
    db.provision(ns.clone(), "budget", b"1").unwrap();
    let (a, b) = (db.begin_call(ns.clone(), Writes::Buffered), db.begin_call(ns.clone(), Writes::Buffered));
    for call in [&a, &b] {
        assert!(call.insert_if_absent("seen/1", b"in").unwrap(), "neither sees the other's write yet");
        assert!(call.compare_and_swap("budget", Some(b"1"), b"2").unwrap());
        call.set("note", b"x").unwrap();
    }
    a.commit().unwrap();
    let lost = b.commit().unwrap_err();
    assert!(lost.chain().any(|e| e.is::<Conflict>()), "{lost:#}");
    let s = db.begin(ns).unwrap();
    assert_eq!(s.get("budget").unwrap().as_deref(), Some(&b"2"[..]), "swapped once");
}

#[test]
fn tokens_are_sealed_at_rest_and_refused_without_a_key_where_required() {
    let dir = tempfile::tempdir().unwrap();
    let sealer = std::sync::Arc::new(Sealer::from_hex(&"ab".repeat(32)).unwrap());
    let db = file_db(&dir, 1).with_tokens(Tokens::Sealed(sealer));
    let ns = Namespace::new("instagram", "c1").unwrap();
    db.provision(ns.clone(), messenger_core::keys::CHANNEL_ACCESS_TOKEN, b"tok-9").unwrap();
    let s = db.begin(ns.clone()).unwrap();
    assert_eq!(s.get(messenger_core::keys::CHANNEL_ACCESS_TOKEN).unwrap().as_deref(), Some(&b"tok-9"[..]));
    assert!(s.compare_and_swap(messenger_core::keys::CHANNEL_ACCESS_TOKEN, Some(b"tok-9"), b"tok-10").unwrap());
    s.commit().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("c.db")).unwrap();
    let raw: Vec<u8> =
        conn.query_row("SELECT value FROM kv WHERE key = 'channel/access-token'", [], |r| r.get(0)).unwrap();
    assert!(!raw.windows(6).any(|w| w == b"tok-10"), "not in the clear");
    let refused = Database::in_memory().unwrap().with_tokens(Tokens::Refused);
    let s = refused.begin(ns).unwrap();
    assert_eq!(s.set("account/1/access-token", b"t"), Err(StorageError::AccessDenied));
    assert!(s.set("account/1/link", b"{}").is_ok(), "only tokens are refused");
}

#[test]
fn batches_answer_as_their_single_calls_and_a_refused_batch_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir, 2);
    let ns = Namespace::new("instagram", "c1").unwrap();
    db.provision(ns.clone(), "seen/old", b"in").unwrap();
    let calls = [
        ("direct", db.begin(ns.clone()).unwrap()),
        ("buffered", db.begin_call(ns.clone(), Writes::Buffered)),
        ("write-through", db.begin_call(ns.clone(), Writes::WriteThrough)),
    ];
    for (mode, call) in calls {
        let marks: [(&str, &[u8]); 3] = [("seen/old", b"in"), (&format!("seen/{mode}"), b"in"), ("seen/old", b"x")];
        let marks: Vec<_> = marks.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(call.insert_if_absent_many(&marks).unwrap(), [false, true, false], "{mode}");
        let again = [(marks[1].0, &b"in"[..])];
        assert_eq!(call.insert_if_absent_many(&again).unwrap(), [false], "{mode}: the call's own mark counts");
        call.set_many(&[("p/1", b"a"), ("p/1", b"b"), ("p/2", b"c")]).unwrap();
        let read = call.get_many(&["p/1", "nothing", "seen/old", "p/2"]).unwrap();
        let read: Vec<_> = read.iter().map(Option::as_deref).collect();
        assert_eq!(read, [Some(&b"b"[..]), None, Some(&b"in"[..]), Some(&b"c"[..])], "{mode}");
        let too_large = vec![0; MAX_VALUE_BYTES + 1];
        let refused = call.set_many(&[("p/3", b"ok"), ("p/4", &too_large)]).unwrap_err();
        assert!(matches!(refused, StorageError::TooLarge(_)), "{mode}: {refused:?}");
        let refused = call.insert_if_absent_many(&[("seen/new", b"in"), ("", b"in")]).unwrap_err();
        assert!(matches!(refused, StorageError::InvalidKey(_)), "{mode}: {refused:?}");
        assert!(call.get_many(&["p/2", ""]).is_err(), "{mode}: an invalid key fails the read");
        assert_eq!(call.get_many(&["p/3", "seen/new"]).unwrap(), [None, None], "{mode}: nothing of a refused batch");
        call.rollback().unwrap();
    }
}
