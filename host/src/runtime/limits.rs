//! What one guest instance may use, and the memory limiter that enforces it.

use std::time::Duration;

/// Per-instance limits. Exceeding one ends the job with an error naming the limit and its value
/// (or, for the counts and sizes of host calls, makes that call return `limit-exceeded`).
///
/// The node's limits ([`crate::runtime::RuntimeConfig::limits`]) are the ceiling; a plugin's
/// manifest may lower them, never raise them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory of the instance, in bytes.
    pub memory_bytes: usize,
    /// Longest wall-clock time of one attempt (and of `initialize`); a job's own timeout can
    /// only shorten it.
    pub timeout: Duration,
    /// Fuel (roughly, wasm instructions) of one attempt; `None` is unmetered. Enforced only on a
    /// node whose engine meters fuel ([`crate::runtime::RuntimeConfig::fuel`]).
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

/// Refuses memory growth past the limit with a trap that says so.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: usize,
    /// Set when the guest asked for more than the limit.
    pub(crate) exceeded: Option<usize>,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            exceeded: None,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = Some(desired);
            return Err(wasmtime::Error::msg(format!(
                "out of memory: the guest asked for {} (limit {})",
                mib(desired),
                mib(self.limit)
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million entries is far past any real guest.
        Ok(desired <= 1_000_000)
    }
}

/// `64 MiB`, or exact bytes when not a whole number of MiB.
pub(crate) fn mib(bytes: usize) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}
