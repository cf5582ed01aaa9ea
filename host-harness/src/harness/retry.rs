//! Sending with retries, done by the host: the guest never sleeps. A message answered `later` is tried again
//! after a bounded, jittered exponential backoff; `now` once at once. Order is kept: a failed message holds back
//! the ones after it. Every message ends with a status, so nothing is silently dropped.

use super::{CallError, Harness};
use crate::clock::now_ms;
use messenger_core::outbound::{DeliveryStatus, Retry, SendPlan};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per message, the first included.
    pub max_attempts: u32,
    /// The first backoff; it doubles with each attempt.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 4, base_delay: Duration::from_millis(250), max_delay: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// Half the exponential delay fixed, half random ("equal jitter"): retries of many senders spread out, yet
    /// never come back at once.
    pub fn backoff(&self, attempts_so_far: u32) -> Duration {
        let exponential =
            self.base_delay.saturating_mul(1 << attempts_so_far.saturating_sub(1).min(16)).min(self.max_delay);
        let half = exponential / 2;
        half + half.mul_f64(jitter_fraction())
    }
}

/// What became of one message, after how many attempts; reported as the status's JSON plus `attempts`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Outcome {
    #[serde(flatten)]
    pub status: DeliveryStatus,
    pub attempts: u32,
}

impl Harness {
    /// Sends `plan` in order, retrying as each failure's `retry` says, within `policy`.
    pub fn send_with_retries(&self, plan: &SendPlan, policy: &RetryPolicy) -> Result<Vec<Outcome>, CallError> {
        let mut outcomes = vec![Outcome { status: DeliveryStatus::NotAttempted, attempts: 0 }; plan.messages.len()];
        let mut start = 0;
        while start < outcomes.len() {
            let rest = SendPlan { messages: plan.messages[start..].to_vec(), ..plan.clone() };
            for (outcome, status) in outcomes[start..].iter_mut().zip(self.send_plan(&rest, now_ms())?) {
                if status != DeliveryStatus::NotAttempted {
                    outcome.attempts += 1;
                    outcome.status = status;
                }
            }
            let Some((failed, retry)) = first_failure(&outcomes) else { break };
            let attempts = outcomes[failed].attempts;
            match retry {
                Retry::Now if attempts < 2 => {}
                Retry::Now | Retry::Later if attempts < policy.max_attempts => {
                    std::thread::sleep(policy.backoff(attempts))
                }
                _ => break,
            }
            start = failed;
        }
        Ok(outcomes)
    }
}

/// The first failed message of a report, and when it may be retried.
pub fn first_failure(outcomes: &[Outcome]) -> Option<(usize, Retry)> {
    outcomes.iter().enumerate().find_map(|(i, o)| match &o.status {
        DeliveryStatus::Failed(f) => Some((i, f.retry)),
        _ => None,
    })
}

/// A fraction in [0, 1) from the clock and a counter: enough to spread retries, no cryptography needed.
fn jitter_fraction() -> f64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64);
    let mut x = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds_and_jitters() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for (attempts, full) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
            for _ in 0..20 {
                let delay = policy.backoff(attempts).as_millis() as u64;
                assert!(
                    (full / 2..=full).contains(&delay),
                    "attempt {attempts}: {delay} ms not in [{}, {full}]",
                    full / 2
                );
            }
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(3)).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
    }
}
