//! History backfills run in the background: on a thread of their own, since they sleep between steps to keep to
//! Meta's rate. Shared by the API (on demand, and when a selection adds accounts) and the console's selection.
//!
//! One loop per channel and account on a node. A second request for an account whose loop runs starts none: that
//! loop reads the stored state at every step, so it serves the restart too. Two loops would step the same state
//! side by side, twice as fast as Meta's rate allows.

use crate::clock::now_ms;
use crate::harness::{CallError, Harness};
use messenger_core::history::BackfillState;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// The (channel namespace, account) pairs whose backfill loop runs on this node.
#[derive(Default)]
pub(crate) struct Running(Mutex<HashSet<(String, String)>>);

impl Running {
    /// True when the caller now runs the loop of `key`; false when another loop has it.
    fn claim(&self, key: &(String, String)) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone())
    }

    fn release(&self, key: &(String, String)) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

/// Runs the accounts' backfills one after the other (`start` first: newly linked accounts) at `pace` times the
/// component's wait between steps, calling `wake` after each account so that the feed's waiters see its events.
/// Accounts whose loop already runs on this node are left to it.
pub(crate) fn run_in_background(
    running: Arc<Running>,
    harness: Arc<Harness>,
    accounts: Vec<String>,
    start: bool,
    pace: f64,
    wake: impl Fn() + Send + 'static,
) {
    let namespace = harness.namespace().as_str().to_owned();
    let claimed: Vec<_> =
        accounts.into_iter().map(|account| (namespace.clone(), account)).filter(|key| running.claim(key)).collect();
    if claimed.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        for key in claimed {
            let account = key.1.as_str();
            let started = if start { harness.start_backfill(account, None, now_ms()).map(drop) } else { Ok(()) };
            let run = || harness.run_backfill(account, pace);
            let ran =
                started.and_then(|()| run_while_claimed(&running, &key, run, || still_running(&harness, account)));
            match ran {
                Ok(state) => tracing::info!(account, ?state, "backfill ran"),
                Err(error) => tracing::warn!(account, code = %error.to_error_info().code, "backfill stopped"),
            }
            wake();
        }
    });
}

/// Whether the account's stored backfill is running (a restart may have come in as the loop finished).
fn still_running(harness: &Harness, account: &str) -> bool {
    matches!(harness.backfill_progress(account), Ok(Some(progress)) if progress.state == BackfillState::Running)
}

/// Runs `run` until the stored state is no longer running, holding `key` meanwhile. A restart that arrived while
/// the loop was finishing found the key held and started nothing, so after letting go the loop looks once more and
/// takes the key back if the state runs again (or leaves it to a loop that took it first). A failed run stops the
/// loop: running it again at once would only fail again.
fn run_while_claimed(
    running: &Running,
    key: &(String, String),
    mut run: impl FnMut() -> Result<messenger_core::history::BackfillProgress, CallError>,
    still_running: impl Fn() -> bool,
) -> Result<BackfillState, CallError> {
    loop {
        let ran = run();
        running.release(key);
        let state = ran?.state;
        // A run that stopped while still running hit its step cap: stop here, as before.
        // A run that stopped while still running hit its step cap: stop here, as before.
        if state == BackfillState::Running || !(still_running() && running.claim(key)) {
            return Ok(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use messenger_core::history::BackfillProgress;
    use std::cell::Cell;

    fn progress(state: BackfillState) -> BackfillProgress {
        BackfillProgress {
            account_id: key().1,
            customer_id: None,
            state,
            started_at: 0,
            updated_at: 0,
            conversations_total: 0,
            conversations_done: 0,
            messages_imported: 0,
            error: None,
        }
    }

    fn key() -> (String, String) {
        ("instagram/default".into(), "17841400000000001".into())
    }

    #[test]
    fn a_second_loop_for_the_same_account_is_not_started() {
        let running = Running::default();
        assert!(running.claim(&key()));
        assert!(!running.claim(&key()), "the account's loop runs");
        assert!(running.claim(&("instagram/other".into(), key().1)), "another channel's account is apart");
        running.release(&key());
        assert!(running.claim(&key()));
    }

    #[test]
    fn a_restart_while_the_loop_finishes_is_run_by_that_loop() {
        let running = Running::default();
        assert!(running.claim(&key()));
        let (runs, restarted) = (Cell::new(0), Cell::new(true));
        // The first run ends; meanwhile a restart stored a running state (and found the key held).
        let state = run_while_claimed(
            &running,
            &key(),
            || {
                runs.set(runs.get() + 1);
                Ok(progress(BackfillState::Done))
            },
            || restarted.replace(false),
        )
        .unwrap();
        assert_eq!((runs.get(), state), (2, BackfillState::Done), "the loop ran the restart");
        assert!(running.claim(&key()), "and let go of the account afterwards");
    }

    #[test]
    fn a_restart_another_loop_took_is_left_to_it_and_a_capped_or_failed_run_stops_the_loop() {
        let running = Running::default();
        assert!(running.claim(&key()));
        let runs = Cell::new(0);
        let other = || {
            // Another request claimed the account the moment it was let go.
            assert!(running.claim(&key()));
            true
        };
        let once = || {
            runs.set(runs.get() + 1);
            assert_eq!(runs.get(), 1, "the restart ran here too");
            Ok(progress(BackfillState::Done))
        };
        assert_eq!(run_while_claimed(&running, &key(), once, other).unwrap(), BackfillState::Done);
        assert_eq!(runs.get(), 1, "the other loop runs it");
        running.release(&key());

        assert!(running.claim(&key()));
        let runs = Cell::new(0);
        let capped = || {
            runs.set(runs.get() + 1);
            assert_eq!(runs.get(), 1, "a run that hit its step cap ran again");
            Ok(progress(BackfillState::Running))
        };
        assert_eq!(run_while_claimed(&running, &key(), capped, || true).unwrap(), BackfillState::Running);
        assert_eq!(runs.get(), 1, "a run that hit its step cap is not run again");

        assert!(running.claim(&key()));
        let failing = || Err(CallError::Host(anyhow::anyhow!("Graph is down")));
        assert!(run_while_claimed(&running, &key(), failing, || true).is_err());
        assert!(running.claim(&key()), "a failed loop lets go of the account");
    }
}
