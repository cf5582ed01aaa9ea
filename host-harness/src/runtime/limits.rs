//! Limits on a guest: linear memory and tables (StoreLimits), and a per-call deadline on the guest's own running
//! time (epoch interruption; time spent in host imports such as HTTP does not count).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::{Engine, StoreLimits, StoreLimitsBuilder};

/// The message of a call stopped by its deadline.
pub const DEADLINE_EXCEEDED: &str = "the plugin ran past its per-call deadline";

/// How often the engine's epoch advances: the deadline's resolution.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most linear memory one instance may have.
    pub memory_bytes: usize,
    /// The most elements one table may have.
    pub table_elements: usize,
    /// The most core instances, tables and memories one component instance may create.
    pub instances: usize,
    pub tables: usize,
    pub memories: usize,
    /// The most guest running time one call may take.
    pub call_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 16 << 20,
            table_elements: 20_000,
            // Measured: the component instantiates 1 memory, 2 tables and 4 core instances.
            instances: 8,
            tables: 4,
            memories: 1,
            call_deadline: Duration::from_millis(100),
        }
    }
}

/// StoreLimits, plus the largest linear memory the guest reached (for the benchmark's memory figure).
pub struct Limiter {
    limits: StoreLimits,
    pub peak_memory_bytes: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory_bytes = self.peak_memory_bytes.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl Limits {
    pub fn limiter(&self) -> Limiter {
        Limiter { limits: self.store_limits(), peak_memory_bytes: 0 }
    }

    pub fn store_limits(&self) -> StoreLimits {
        StoreLimitsBuilder::new()
            .memory_size(self.memory_bytes)
            .table_elements(self.table_elements)
            .instances(self.instances)
            .tables(self.tables)
            .memories(self.memories)
            .trap_on_grow_failure(true)
            .build()
    }
}

/// Measures one call's guest time: wall time since the call began, less the time spent in host imports.
#[derive(Debug)]
pub struct CallClock {
    started: Instant,
    in_host: Duration,
    deadline: Duration,
}

impl CallClock {
    pub fn start(deadline: Duration) -> Self {
        Self { started: Instant::now(), in_host: Duration::ZERO, deadline }
    }

    /// Runs a host import, keeping its time off the guest's account.
    pub fn in_host<R>(&mut self, work: impl FnOnce() -> R) -> R {
        let began = Instant::now();
        let result = work();
        self.in_host += began.elapsed();
        result
    }

    pub fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.in_host)
    }

    pub fn is_over(&self) -> bool {
        self.guest_time() > self.deadline
    }
}

/// A thread that advances the engine's epoch every tick, stopped when dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch ticker");
        Self { stop, thread: Some(thread) }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_in_host_imports_is_not_guest_time() {
        let mut clock = CallClock::start(Duration::from_millis(30));
        clock.in_host(|| std::thread::sleep(Duration::from_millis(60)));
        assert!(!clock.is_over(), "60 ms waiting on the host left the guest at {:?}", clock.guest_time());
        std::thread::sleep(Duration::from_millis(40));
        assert!(clock.is_over(), "40 ms of guest time is past a 30 ms deadline");
    }
}
