//! Group commit: component calls that finish together share one write transaction, so one `fsync` on SQLite and
//! one BEGIN and COMMIT on PostgreSQL for all of them.
//!
//! Nothing waits to fill a group. The first call to arrive while no group is committing leads: it takes whatever
//! is queued (at most `MAX_GROUP`), applies each call's work in one transaction and commits. Calls that arrive
//! meanwhile queue up and form the next group, led by the first of them once the leader is done; a lone call pays
//! nothing more than before.
//!
//! Each call learns its own outcome only after the shared commit, so a delivery acknowledged on it is on disk. If
//! one call's work fails (a lost race decided by the database, a broken row), the transaction is rolled back,
//! that call alone gets its error and the others are applied again in a fresh transaction: their work is data
//! (the buffered writes and the records to add), so applying it again is the same work. If the commit itself
//! fails, every call of the group fails, and nothing of them is stored.

use super::{Backend, Transaction};
use anyhow::{Result, anyhow};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// The most calls one transaction takes (a delivery's body is at most 1 MiB, so a group stays far below what a
/// transaction can hold).
pub(super) const MAX_GROUP: usize = 32;

/// What a call applies in the shared transaction; it may be applied more than once (see the module's doc).
pub(crate) type Work = Box<dyn Fn(&mut dyn Transaction) -> Result<()> + Send>;

/// What a queued call is told: its outcome, or that it leads the next group.
enum Word {
    Done(Result<()>),
    Lead,
}

struct Queued {
    work: Work,
    reply: SyncSender<Word>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Queued>,
    /// A group is being committed, or its leader is handing over to the next.
    leading: bool,
}

/// The queue of one store's calls waiting to commit.
#[derive(Default)]
pub(super) struct GroupCommit {
    queue: Mutex<Queue>,
    counts: GroupCounts,
}

/// How many transactions committed groups, and how many calls they held (their ratio: the mean group size).
#[derive(Debug, Default)]
pub struct GroupCounts {
    pub groups: AtomicU64,
    pub calls: AtomicU64,
}

impl GroupCommit {
    /// Applies `work` in a write transaction shared with the calls that commit at the same time; returns when that
    /// transaction is committed (or `work` failed, or the commit did).
    pub fn commit(&self, backend: &Arc<dyn Backend>, work: Work) -> Result<()> {
        let (reply, outcome) = sync_channel(1);
        let lead = {
            let mut queue = self.queue.lock().expect("group commit queue");
            queue.waiting.push(Queued { work, reply });
            !std::mem::replace(&mut queue.leading, true)
        };
        if lead {
            self.lead(backend);
        }
        self.wait(backend, outcome)
    }

    pub fn counts(&self) -> &GroupCounts {
        &self.counts
    }

    fn wait(&self, backend: &Arc<dyn Backend>, outcome: Receiver<Word>) -> Result<()> {
        loop {
            match outcome.recv() {
                Ok(Word::Done(result)) => return result,
                Ok(Word::Lead) => self.lead(backend),
                Err(_) => return Err(anyhow!("the group commit stopped before this call's outcome was known")),
            }
        }
    }

    /// Commits one group, then hands the lead to the first call still waiting (or gives it up).
    fn lead(&self, backend: &Arc<dyn Backend>) {
        let group: Vec<Queued> = {
            let mut queue = self.queue.lock().expect("group commit queue");
            let take = queue.waiting.len().min(MAX_GROUP);
            queue.waiting.drain(..take).collect()
        };
        // Handing over runs even if a call's work panicked, so the queue never waits for a leader that is gone.
        let _handover = Handover(self);
        commit_group(backend.as_ref(), group, &self.counts);
    }
}

struct Handover<'a>(&'a GroupCommit);

impl Drop for Handover<'_> {
    fn drop(&mut self) {
        let mut queue = self.0.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match queue.waiting.first() {
            Some(next) => {
                let _ = next.reply.send(Word::Lead);
            }
            None => queue.leading = false,
        }
    }
}

/// Applies every call's work in one transaction and commits it; a call whose work fails is answered with its
/// error and left out, and the rest are applied again in a fresh transaction.
fn commit_group(backend: &dyn Backend, mut group: Vec<Queued>, counts: &GroupCounts) {
    while !group.is_empty() {
        let mut tx = match backend.begin(true) {
            Ok(tx) => tx,
            Err(error) => return fail_all(group, &error),
        };
        let failed = group.iter().enumerate().find_map(|(at, call)| (call.work)(tx.as_mut()).err().map(|e| (at, e)));
        match failed {
            Some((at, error)) => {
                let _ = tx.rollback();
                let _ = group.remove(at).reply.send(Word::Done(Err(error)));
            }
            None => {
                match tx.commit() {
                    Ok(()) => {
                        counts.groups.fetch_add(1, Ordering::Relaxed);
                        counts.calls.fetch_add(group.len() as u64, Ordering::Relaxed);
                        group.into_iter().for_each(|call| drop(call.reply.send(Word::Done(Ok(())))))
                    }
                    Err(error) => fail_all(group, &error),
                }
                return;
            }
        }
    }
}

fn fail_all(group: Vec<Queued>, error: &anyhow::Error) {
    let size = group.len();
    for call in group {
        let error = anyhow!("committing a group of {size} calls' writes: {error:#}");
        let _ = call.reply.send(Word::Done(Err(error)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Database, Namespace};
    use std::sync::mpsc::channel;

    fn upsert(key: &'static str) -> Work {
        Box::new(move |tx| tx.kv().upsert("instagram/c1", key, b"v"))
    }

    /// A database whose first grouped call waits for `open` before it commits: the calls made meanwhile queue up.
    fn held(dir: &tempfile::TempDir) -> (Database, SyncSender<()>, std::thread::JoinHandle<Result<()>>) {
        let db = Database::open(&dir.path().join("c.db"), 4).unwrap();
        let (open, gate) = sync_channel::<()>(0);
        let (entered, inside) = sync_channel::<()>(1);
        let first = db.clone();
        let leader = std::thread::spawn(move || {
            first.commit_grouped(Box::new(move |tx| {
                let _ = entered.send(());
                let _ = gate.recv();
                tx.kv().upsert("instagram/c1", "first", b"v")
            }))
        });
        inside.recv().unwrap();
        (db, open, leader)
    }

    fn queued(db: &Database) -> usize {
        db.group.queue.lock().unwrap().waiting.len()
    }

    fn stored(db: &Database, key: &str) -> bool {
        use messenger_core::ports::Storage;
        let ns = Namespace::new("instagram", "c1").unwrap();
        db.read(&ns, |s| Ok(s.get(key).unwrap())).unwrap().is_some()
    }

    #[test]
    fn calls_that_arrive_while_a_group_commits_share_the_next_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let (db, open, leader) = held(&dir);
        let keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"];
        let (done, outcomes) = channel();
        for key in keys {
            let (db, done) = (db.clone(), done.clone());
            std::thread::spawn(move || done.send(db.commit_grouped(upsert(key))).unwrap());
        }
        while queued(&db) < keys.len() {
            std::thread::yield_now();
        }
        open.send(()).unwrap();
        leader.join().unwrap().unwrap();
        for _ in keys {
            outcomes.recv().unwrap().unwrap();
        }
        assert!(keys.iter().chain(&["first"]).all(|key| stored(&db, key)));
        let counts = db.group.counts();
        assert_eq!(counts.calls.load(Ordering::Relaxed), 11);
        assert_eq!(counts.groups.load(Ordering::Relaxed), 2, "the first call's group, then the ten queued behind it");
        assert!(!db.group.queue.lock().unwrap().leading, "the lead is given up when nothing waits");
    }

    #[test]
    fn a_call_whose_work_fails_fails_alone_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, open, leader) = held(&dir);
        let broken: Work = Box::new(|tx| {
            tx.kv().upsert("instagram/c1", "broken", b"v")?;
            Err(anyhow!("a broken row"))
        });
        let (done, outcomes) = channel();
        for (name, work) in [("before", upsert("before")), ("broken", broken), ("after", upsert("after"))] {
            let (caller, done) = (db.clone(), done.clone());
            std::thread::spawn(move || done.send((name, caller.commit_grouped(work))).unwrap());
            while queued(&db) < ["before", "broken", "after"].iter().position(|n| *n == name).unwrap() + 1 {
                std::thread::yield_now();
            }
        }
        open.send(()).unwrap();
        leader.join().unwrap().unwrap();
        let mut answers: Vec<(&str, Result<()>)> = (0..3).map(|_| outcomes.recv().unwrap()).collect();
        answers.sort_by_key(|(name, _)| *name);
        let answers: Vec<(&str, Option<String>)> =
            answers.into_iter().map(|(name, result)| (name, result.err().map(|e| e.to_string()))).collect();
        assert_eq!(answers, [("after", None), ("before", None), ("broken", Some("a broken row".into()))]);
        assert!(stored(&db, "before") && stored(&db, "after"));
        assert!(!stored(&db, "broken"), "the failed call's own write was rolled back");
    }
}
