//! Medians over rounds, after a warm-up, with the spread.

use std::time::{Duration, Instant};

/// A figure: the median of the rounds' per-operation times, and their spread.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// Runs `op` for `iters` operations per round, `rounds` times after a warm-up; per-op times in `unit` (1e6 = µs).
pub(super) fn measure(rounds: usize, iters: usize, unit: f64, mut op: impl FnMut(usize)) -> Stat {
    measure_part(rounds, iters, unit, |i| {
        let started = Instant::now();
        op(i);
        started.elapsed()
    })
}

/// As `measure`, where each operation returns the part of it that counts.
pub(super) fn measure_part(rounds: usize, iters: usize, unit: f64, mut op: impl FnMut(usize) -> Duration) -> Stat {
    let mut next = 0;
    for _ in 0..iters.div_ceil(2) {
        op(next);
        next += 1;
    }
    let mut per_op: Vec<f64> = (0..rounds)
        .map(|_| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                spent += op(next);
                next += 1;
            }
            spent.as_secs_f64() * unit / iters as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    Stat { median: per_op[per_op.len() / 2], min: per_op[0], max: per_op[per_op.len() - 1] }
}

/// Three decimals: what the figures print.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
