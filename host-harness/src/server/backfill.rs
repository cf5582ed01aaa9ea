//! History backfills run in the background: on a thread of their own, since they sleep between steps to keep to
//! Meta's rate. Shared by the API (on demand, and when a selection adds accounts) and the console's selection.

use crate::clock::now_ms;
use crate::harness::Harness;
use std::sync::Arc;

/// Runs the accounts' backfills one after the other (`start` first: newly linked accounts), at `pace` times the
/// component's wait between steps, calling `wake` after each account so that the feed's waiters see its events.
pub(crate) fn run_in_background(
    harness: Arc<Harness>,
    accounts: Vec<String>,
    start: bool,
    pace: f64,
    wake: impl Fn() + Send + 'static,
) {
    if accounts.is_empty() {
        return;
    }
    std::thread::spawn(move || {
        for account in accounts {
            let started = if start { harness.start_backfill(&account, None, now_ms()).map(drop) } else { Ok(()) };
            match started.and_then(|()| harness.run_backfill(&account, pace)) {
                Ok(progress) => tracing::info!(account, state = ?progress.state, "backfill ran"),
                Err(error) => tracing::warn!(account, code = %error.to_error_info().code, "backfill stopped"),
            }
            wake();
        }
    });
}
