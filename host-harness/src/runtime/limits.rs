//! Limits on a guest: linear memory and tables (StoreLimits); a per-call deadline on the guest's own running time
//! (epoch interruption), and a wall-clock limit on the whole call, time in host imports included, so a plugin
//! cannot hold a worker (or the storage it writes) for ever by waiting on Graph; and caps on the host calls one
//! call makes and the bytes it writes, so it cannot loop on imports or fill the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wasmtime::{Engine, StoreLimits, StoreLimitsBuilder};

/// The message of a call stopped by its deadline.
pub const DEADLINE_EXCEEDED: &str = "the plugin ran past its per-call deadline";

/// The message of a call stopped by its wall-clock limit.
pub const WALL_CLOCK_EXCEEDED: &str = "the plugin call ran past its wall-clock limit";
/// The message of a call stopped for making too many host calls.
pub const TOO_MANY_IMPORTS: &str = "the plugin made more host calls than one call may";
/// The message of a call stopped for writing too much.
pub const TOO_MUCH_WRITTEN: &str = "the plugin wrote more than one call may";

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
    /// The most wall-clock time one call may take, waiting on Graph or storage included.
    pub call_wall_clock: Duration,
    /// The most host calls (storage and http) one call may make.
    pub max_host_calls: u32,
    /// The most bytes (keys and values) one call may write.
    pub max_written_bytes: usize,
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
            // Longer than a few Graph requests at their 10 s cap; shorter than Meta's patience with a webhook.
            call_wall_clock: Duration::from_secs(30),
            // A 1 MiB delivery of small items needs a few per item; a loop needs more.
            max_host_calls: 50_000,
            // Writes wait in memory until the call commits: this bounds that too.
            max_written_bytes: 8 << 20,
        }
    }
}

/// StoreLimits, plus the largest linear memory the guest reached and how often it grew (the benchmark's memory
/// figures).
pub struct Limiter {
    limits: StoreLimits,
    pub peak_memory_bytes: usize,
    /// Growths past the initial memory: each costs an `mprotect`, and the slot's shrink back another at the next
    /// instantiation.
    pub memory_grows: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_memory_bytes = self.peak_memory_bytes.max(desired);
            // The instantiation asks for the initial memory (from 0); only later asks are the guest's `memory.grow`.
            self.memory_grows += usize::from(current > 0);
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
        Limiter { limits: self.store_limits(), peak_memory_bytes: 0, memory_grows: 0 }
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

/// Measures one call's guest time (wall time since the call began, less the time spent in host imports) and its
/// wall-clock time.
#[derive(Debug)]
pub struct CallClock {
    started: Instant,
    in_host: Duration,
    deadline: Duration,
    wall_clock: Duration,
}

impl CallClock {
    #[cfg(test)]
    pub fn start(deadline: Duration) -> Self {
        Self::with_wall_clock(deadline, Duration::MAX)
    }

    pub fn with_wall_clock(deadline: Duration, wall_clock: Duration) -> Self {
        Self { started: Instant::now(), in_host: Duration::ZERO, deadline, wall_clock }
    }

    /// Wall-clock time the call has left.
    pub fn remaining(&self) -> Duration {
        self.wall_clock.saturating_sub(self.started.elapsed())
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

    /// Why the call must stop now, if it must.
    pub fn stop_reason(&self) -> Option<&'static str> {
        if self.is_over() {
            Some(DEADLINE_EXCEEDED)
        } else if self.remaining().is_zero() {
            Some(WALL_CLOCK_EXCEEDED)
        } else {
            None
        }
    }
}

/// What one call has used of its host-call and write caps.
#[derive(Debug)]
pub struct CallBudget {
    calls: u32,
    written: usize,
    max_calls: u32,
    max_written: usize,
}

impl CallBudget {
    pub fn new(limits: &Limits) -> Self {
        Self { calls: 0, written: 0, max_calls: limits.max_host_calls, max_written: limits.max_written_bytes }
    }

    /// Counts `operations` host operations writing `bytes` (a batched storage call counts one per key, so
    /// batching does not lift the cap); the reason to stop the call when a cap is passed.
    pub fn charge(&mut self, operations: usize, bytes: usize) -> Result<(), &'static str> {
        self.calls = self.calls.saturating_add(u32::try_from(operations).unwrap_or(u32::MAX));
        self.written = self.written.saturating_add(bytes);
        if self.calls > self.max_calls {
            return Err(TOO_MANY_IMPORTS);
        }
        if self.written > self.max_written {
            return Err(TOO_MUCH_WRITTEN);
        }
        Ok(())
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
