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
    let per_op: Vec<f64> = (0..rounds)
        .map(|_| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                spent += op(next);
                next += 1;
            }
            spent.as_secs_f64() * unit / iters as f64
        })
        .collect();
    stat(per_op)
}

/// As `measure`, for two operations whose rounds alternate (a, b, a, b, ...): a noisy machine slows both alike, so
/// their difference holds within the run.
pub(super) fn measure_pair(
    rounds: usize,
    iters: usize,
    unit: f64,
    mut a: impl FnMut(usize),
    mut b: impl FnMut(usize),
) -> (Stat, Stat) {
    let (mut next_a, mut next_b) = (0, 0);
    timed_round(&mut a, &mut next_a, iters.div_ceil(2), unit);
    timed_round(&mut b, &mut next_b, iters.div_ceil(2), unit);
    let (mut per_a, mut per_b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        per_a.push(timed_round(&mut a, &mut next_a, iters, unit));
        per_b.push(timed_round(&mut b, &mut next_b, iters, unit));
    }
    (stat(per_a), stat(per_b))
}

/// Runs `iters` operations from `next` on; the time per operation in `unit`.
fn timed_round(op: &mut impl FnMut(usize), next: &mut usize, iters: usize, unit: f64) -> f64 {
    let started = Instant::now();
    for _ in 0..iters {
        op(*next);
        *next += 1;
    }
    started.elapsed().as_secs_f64() * unit / iters as f64
}

fn stat(mut per_op: Vec<f64>) -> Stat {
    per_op.sort_by(f64::total_cmp);
    Stat { median: per_op[per_op.len() / 2], min: per_op[0], max: per_op[per_op.len() - 1] }
}

/// Three decimals: what the figures print.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
