//! The `history` export (WIT 0.3.0): an account's recent conversations brought in as `backfill` events, step by
//! step at Meta's rate, each step's events committed with the component's cursor; and the token probe.

use super::{CallError, Harness};
use crate::store::{Writes, journal};
use messenger_core::graph::GraphError;
use messenger_core::history::{BackfillBatch, BackfillProgress, BackfillState};
use messenger_core::wire::Mirror;
use std::time::Duration;

/// How many steps one run takes at most: a listing and 25 conversations, with room to spare.
const MAX_STEPS: u32 = 64;

impl Harness {
    /// Starts (or restarts) a backfill of the account, or of one customer's conversation (`history.start-backfill`).
    pub fn start_backfill(
        &self,
        account_id: &str,
        customer_id: Option<&str>,
        now: u64,
    ) -> Result<BackfillProgress, CallError> {
        let customer = customer_id.map(str::to_owned);
        let progress = self.call(|store, plugin| {
            plugin.history(store)?.call_start_backfill(store, account_id, customer.as_deref(), now)
        })?;
        Ok(progress.mirror())
    }

    /// The account's backfill progress, if one was started (`history.get-backfill`).
    pub fn backfill_progress(&self, account_id: &str) -> Result<Option<BackfillProgress>, CallError> {
        let progress = self.call(|store, plugin| plugin.history(store)?.call_get_backfill(store, account_id))?;
        Ok(progress.mirror())
    }

    /// Runs the next backfill step (`history.backfill-step`); its events are stored in the transaction that keeps
    /// the component's cursor, so a step is either wholly in or not at all.
    pub fn backfill_step(&self, account_id: &str, now: u64) -> Result<BackfillBatch, CallError> {
        self.call_then(
            Writes::Buffered,
            |store, plugin| {
                let batch = plugin.history(store)?.call_backfill_step(store, account_id, now)?;
                Ok(batch.map(Mirror::<BackfillBatch>::mirror))
            },
            super::in_session(|session, batch: &BackfillBatch| journal::record_backfill(session, &batch.events)),
        )
    }

    /// Runs the account's backfill from where it is until it is done or a step fails, waiting between steps as the
    /// component says (Meta's rate), times `pace` (1.0 in production; tests may go faster). The last progress.
    pub fn run_backfill(&self, account_id: &str, pace: f64) -> Result<BackfillProgress, CallError> {
        let mut progress = None;
        for _ in 0..MAX_STEPS {
            let batch = self.backfill_step(account_id, crate::clock::now_ms())?;
            let state = batch.progress.state;
            progress = Some(batch.progress);
            if state != BackfillState::Running {
                break;
            }
            std::thread::sleep(Duration::from_millis(batch.next_step_after_ms).mul_f64(pace.max(0.0)));
        }
        Ok(progress.expect("at least one step ran"))
    }

    /// Checks the account's token with Graph (`linking.probe-token`); a break it finds is recorded, and returned.
    pub fn probe_token(&self, account_id: &str, now: u64) -> Result<Option<GraphError>, CallError> {
        let found = self.call(|store, plugin| plugin.linking(store)?.call_probe_token(store, account_id, now))?;
        Ok(found.mirror())
    }
}
