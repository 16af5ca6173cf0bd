//! What one guest instance may use, and the memory limiter that enforces it.

use std::time::Duration;

/// Per-instance limits. Exceeding one ends the job with an error naming the limit and its value
/// (or, for the counts and sizes of host calls, makes that call return `limit-exceeded`).
///
/// The node's limits ([`crate::RuntimeConfig::limits`]) are the ceiling; a plugin's
/// manifest may lower them, never raise them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory of the instance, in bytes: all its core memories together.
    pub memory_bytes: usize,
    /// Longest wall-clock time of one attempt (and of `initialize`); a job's own timeout can
    /// only shorten it.
    pub timeout: Duration,
    /// Fuel (roughly, wasm instructions) of one attempt; `None` is unmetered. Enforced only on a
    /// node whose engine meters fuel ([`crate::RuntimeConfig::fuel`]).
    pub fuel: Option<u64>,
    /// Jobs of one plugin running at once on this node; more wait for a slot.
    pub concurrency: usize,
    /// Bytes of a job's JSON result.
    pub result_bytes: usize,
    /// Bytes of log text (guest log calls, stdout, stderr) kept per attempt.
    pub log_bytes: usize,
    /// Attestations one attempt may write.
    pub attestations: usize,
    /// Bytes of attestations (values and attributes) one attempt may write.
    pub attestation_bytes: usize,
    /// Child jobs one attempt may enqueue.
    pub child_jobs: usize,
    /// Store queries one attempt may make.
    pub queries: usize,
}

impl Default for Limits {
    /// 64 MiB memory, 30 s, no fuel metering, 64 jobs at once, 1 MiB result, 256 KiB log,
    /// 10,000 attestations of 16 MiB in all, 1,000 child jobs, 10,000 queries.
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            timeout: Duration::from_secs(30),
            fuel: None,
            concurrency: 64,
            result_bytes: 1 << 20,
            log_bytes: 256 << 10,
            attestations: 10_000,
            attestation_bytes: 16 << 20,
            child_jobs: 1_000,
            queries: 10_000,
        }
    }
}

/// Core memories one component may define, on a node with the pooling allocator (each takes a
/// slot of the pool). Rust, Python (componentize-py) and JavaScript (componentize-js) components
/// define one memory and two tables (the example handlers, 2026-12-01); the memory limit bounds
/// all memories together in any case.
pub const MAX_MEMORIES_PER_COMPONENT: u32 = 4;
/// Core tables one component may define, on a node with the pooling allocator.
pub const MAX_TABLES_PER_COMPONENT: u32 = 16;

/// Table elements all tables of one instance may hold together: they hold function
/// references, and a million is far past any real guest.
pub(crate) const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Refuses growth of an instance's linear memories past the memory limit, with a trap that
/// says so, and of its tables past [`MAX_TABLE_ELEMENTS`].
///
/// wasmtime asks about each memory and table separately (also when one is created), and a
/// component may hold many core instances, each with its own memory: the limit is the
/// sandbox's, so the limiter counts all of them together.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: usize,
    /// Bytes of all linear memories of the instance.
    memory_bytes: usize,
    /// Elements of all its tables.
    table_elements: usize,
    /// The last growth allowed, taken back when wasmtime reports that it failed after all.
    last_memory_growth: usize,
    last_table_growth: usize,
    /// Set when the guest asked for more than the limit: the total it asked for.
    pub(crate) exceeded: Option<usize>,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            memory_bytes: 0,
            table_elements: 0,
            last_memory_growth: 0,
            last_table_growth: 0,
            exceeded: None,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.memory_bytes.saturating_add(growth);
        if total > self.limit {
            self.exceeded = Some(total);
            return Err(wasmtime::Error::msg(format!(
                "out of memory: the guest asked for {} in all its memories (limit {})",
                mib(total),
                mib(self.limit)
            )));
        }
        self.memory_bytes = total;
        self.last_memory_growth = growth;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_bytes -= std::mem::take(&mut self.last_memory_growth);
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.table_elements.saturating_add(growth);
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_elements = total;
        self.last_table_growth = growth;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.table_elements -= std::mem::take(&mut self.last_table_growth);
        Ok(())
    }
}

/// `64 MiB`, or exact bytes when not a whole number of MiB.
pub fn mib(bytes: usize) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter;

    use super::*;

    #[test]
    fn memories_of_one_instance_count_together() {
        let mut limiter = MemoryLimiter::new(64 << 20);
        assert!(limiter.memory_growing(0, 60 << 20, None).unwrap());
        let refused = limiter.memory_growing(0, 60 << 20, None).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "out of memory: the guest asked for 120 MiB in all its memories (limit 64 MiB)"
        );
        assert_eq!(limiter.exceeded, Some(120 << 20));
        assert!(limiter.memory_growing(60 << 20, 63 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        assert!(limiter.memory_growing(0, 1, None).is_err());
    }

    #[test]
    fn a_growth_that_failed_is_given_back() {
        let mut limiter = MemoryLimiter::new(64 << 20);
        assert!(limiter.memory_growing(0, 40 << 20, None).unwrap());
        limiter
            .memory_grow_failed(wasmtime::Error::msg("no room"))
            .unwrap();
        assert!(limiter.memory_growing(0, 64 << 20, None).unwrap());
    }

    #[test]
    fn tables_of_one_instance_count_together() {
        let mut limiter = MemoryLimiter::new(64 << 20);
        assert!(limiter.table_growing(0, 600_000, None).unwrap());
        assert!(!limiter.table_growing(0, 600_000, None).unwrap());
        assert!(limiter.table_growing(0, 400_000, None).unwrap());
    }
}
