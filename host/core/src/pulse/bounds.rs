//! The bounds on what an enqueue may ask for, and on the size of one job tree. Every input
//! (CLI flags, files, a guest's `pulse::enqueue`) is checked against them before it is stored,
//! with an error naming the limit and the value.

use std::time::Duration;

use super::{Error, Result};

/// Longest wall-clock limit a job may ask for its attempts: 7 days. The node's own ceiling
/// (30 s by default) still applies.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Latest start time a job may ask for: 9999-12-31T23:59:59.999Z, the last time RFC 3339 shows.
pub const MAX_RUN_AT_MS: i64 = 253_402_300_799_999;
/// Most attempts a job may get: 1,000.
pub const MAX_ATTEMPTS: u32 = 1_000;
/// Largest job payload: 16 MiB of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 16 << 20;
/// Most payload bytes of the child jobs one attempt enqueues, together: 16 MiB.
pub const MAX_CHILD_PAYLOADS_PER_ATTEMPT: usize = 16 << 20;

/// Check a timeout in milliseconds: more than 0, at most [`MAX_TIMEOUT`].
///
/// # Errors
///
/// [`Error::Invalid`] naming the value and the limit.
pub fn check_timeout_ms(ms: u64) -> Result<u64> {
    let most = u64::try_from(MAX_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Err(Error::Invalid("timeout must be longer than 0".into()));
    }
    if ms > most {
        return Err(Error::Invalid(format!(
            "timeout {ms} ms is longer than the limit of {most} ms (7 days)"
        )));
    }
    Ok(ms)
}

/// A timeout given as a [`Duration`], in milliseconds, checked as by [`check_timeout_ms`].
///
/// # Errors
///
/// As [`check_timeout_ms`].
pub fn timeout_ms(timeout: Duration) -> Result<u64> {
    check_timeout_ms(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
}

/// The start time `delay_ms` after `now`, at most [`MAX_RUN_AT_MS`].
///
/// # Errors
///
/// [`Error::Invalid`] naming the delay, when it reaches past the latest start time.
pub fn run_at_after(now: i64, delay_ms: u64) -> Result<i64> {
    i64::try_from(delay_ms)
        .ok()
        .and_then(|delay| now.checked_add(delay))
        .filter(|at| *at <= MAX_RUN_AT_MS)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "delay {delay_ms} ms is too long: a job must start by 9999-12-31T23:59:59Z"
            ))
        })
}

/// Check the size of a payload's JSON text.
///
/// # Errors
///
/// [`Error::Invalid`] naming the size and [`MAX_PAYLOAD_BYTES`].
pub fn check_payload_bytes(bytes: usize) -> Result<()> {
    if bytes > MAX_PAYLOAD_BYTES {
        return Err(Error::Invalid(format!(
            "payload is {bytes} bytes; the limit is {MAX_PAYLOAD_BYTES} (16 MiB)"
        )));
    }
    Ok(())
}

/// How far one job tree may grow: a job enqueued by a job is refused past these bounds (the
/// guest's `pulse::enqueue` gets `limit-exceeded`, and an attempt whose children would cross
/// them fails when it commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeLimits {
    /// Most parents above a job (a root has depth 0).
    pub depth: u32,
    /// Most jobs below one root, over all depths, counting those still stored.
    pub descendants: u64,
}

impl TreeLimits {
    /// Default depth: 32 levels.
    pub const DEFAULT_DEPTH: u32 = 32;
    /// Default descendants of one root: 10,000.
    pub const DEFAULT_DESCENDANTS: u64 = 10_000;

    /// Why a child at `depth` is refused, if it is.
    pub fn check_depth(&self, depth: u32) -> Result<()> {
        if depth > self.depth {
            return Err(Error::Invalid(format!(
                "job tree depth limit reached: a child would be at depth {depth}; the limit is {} \
                 (max_job_depth)",
                self.depth
            )));
        }
        Ok(())
    }

    /// Why `adding` more jobs under `root`, which has `existing` descendants, is refused, if it
    /// is.
    pub fn check_descendants(&self, root: &str, existing: u64, adding: u64) -> Result<()> {
        if existing.saturating_add(adding) > self.descendants {
            return Err(Error::Invalid(format!(
                "job tree limit reached: root job '{root}' has {existing} descendants and this \
                 attempt adds {adding}; the limit is {} (max_job_descendants)",
                self.descendants
            )));
        }
        Ok(())
    }
}

impl Default for TreeLimits {
    fn default() -> Self {
        Self {
            depth: Self::DEFAULT_DEPTH,
            descendants: Self::DEFAULT_DESCENDANTS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_past_a_bound_are_refused_with_the_bound_named() {
        assert!(check_timeout_ms(1).is_ok());
        let error = check_timeout_ms(u64::MAX).unwrap_err().to_string();
        assert!(
            error.contains("18446744073709551615 ms") && error.contains("604800000"),
            "{error}"
        );
        assert!(timeout_ms(Duration::from_secs(u64::MAX)).is_err());
        assert_eq!(run_at_after(1_000, 500).unwrap(), 1_500);
        let error = run_at_after(1_000, u64::MAX).unwrap_err().to_string();
        assert!(error.contains("9999-12-31"), "{error}");
        assert!(run_at_after(i64::MAX - 1, 10).is_err());
        assert!(check_payload_bytes(MAX_PAYLOAD_BYTES).is_ok());
        assert!(check_payload_bytes(MAX_PAYLOAD_BYTES + 1).is_err());
        let tree = TreeLimits {
            depth: 2,
            descendants: 10,
        };
        assert!(tree.check_depth(2).is_ok() && tree.check_depth(3).is_err());
        assert!(tree.check_descendants("R", 9, 1).is_ok());
        let error = tree.check_descendants("R", 9, 2).unwrap_err().to_string();
        assert!(
            error.contains("'R' has 9") && error.contains("limit is 10"),
            "{error}"
        );
    }
}
