//! The bounds on a node's Pulse settings, and the `validate()` of each config that holds them,
//! so that every front end (the CLI, the settings file, an HTTP API) refuses the same values
//! with the same words.

use std::time::Duration;

use super::{PrunerConfig, TreeLimits, WorkerConfig, bounds};

/// Shortest lease: 300 ms (a node renews it every third of it).
pub const MIN_LEASE: Duration = Duration::from_millis(300);
/// Longest lease: 1 day (a dead node's jobs wait that long to be rescued).
pub const MAX_LEASE: Duration = Duration::from_secs(24 * 3600);
/// Most jobs one claim may take: 1,000.
pub const MAX_CLAIM_BATCH: u32 = 1_000;
/// Longest retention of finished jobs: 100 years.
pub const MAX_RETENTION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A setting outside its bounds. Messages name the setting, the value and the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// [`WorkerConfig::default_timeout`] is 0 or longer than [`bounds::MAX_TIMEOUT`].
    #[error("default timeout: {0}")]
    DefaultTimeout(String),
    /// [`WorkerConfig::lease`] is shorter than [`MIN_LEASE`].
    #[error("lease {0:?} is too short: a node renews it every third of it; use at least 300ms")]
    LeaseTooShort(Duration),
    /// [`WorkerConfig::lease`] is longer than [`MAX_LEASE`].
    #[error("lease {0:?} is longer than the limit of 1d: a dead node's jobs would wait that long")]
    LeaseTooLong(Duration),
    /// [`WorkerConfig::claim_batch`] is 0 or more than [`MAX_CLAIM_BATCH`].
    #[error("claim_batch {0} must be from 1 to 1000")]
    ClaimBatch(u32),
    /// [`PrunerConfig::retention`] is longer than [`MAX_RETENTION`].
    #[error("retention {0:?} is longer than the limit of 100 years")]
    RetentionTooLong(Duration),
    /// [`TreeLimits::descendants`] is 0.
    #[error("max_job_descendants is 0: a job could enqueue no child; use at least 1")]
    NoDescendants,
}

impl WorkerConfig {
    /// Check the settings a worker claims and runs jobs with: the default timeout (as
    /// [`bounds::timeout_ms`]), the lease, the claim batch, then the [`TreeLimits`].
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, in that order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_claims()?;
        self.tree.validate()
    }

    /// [`Self::validate`] without the tree limits: what a node checks before its pruner's
    /// retention, so that its settings are refused in the order they are documented.
    ///
    /// # Errors
    ///
    /// As [`Self::validate`].
    pub fn validate_claims(&self) -> Result<(), ConfigError> {
        bounds::timeout_ms(self.default_timeout)
            .map_err(|error| ConfigError::DefaultTimeout(error.to_string()))?;
        if self.lease < MIN_LEASE {
            return Err(ConfigError::LeaseTooShort(self.lease));
        }
        if self.lease > MAX_LEASE {
            return Err(ConfigError::LeaseTooLong(self.lease));
        }
        if !(1..=MAX_CLAIM_BATCH).contains(&self.claim_batch) {
            return Err(ConfigError::ClaimBatch(self.claim_batch));
        }
        Ok(())
    }
}

impl PrunerConfig {
    /// Check the retention.
    ///
    /// # Errors
    ///
    /// [`ConfigError::RetentionTooLong`] past [`MAX_RETENTION`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.retention > MAX_RETENTION {
            return Err(ConfigError::RetentionTooLong(self.retention));
        }
        Ok(())
    }
}

impl TreeLimits {
    /// Check that a job may have children at all.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoDescendants`] when no descendant is allowed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.descendants == 0 {
            return Err(ConfigError::NoDescendants);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(change: impl FnOnce(&mut WorkerConfig)) -> Result<(), ConfigError> {
        let mut config = WorkerConfig::new("node-test");
        change(&mut config);
        config.validate()
    }

    #[test]
    fn the_defaults_and_the_bounds_themselves_are_valid() {
        assert_eq!(worker(|_| {}), Ok(()));
        assert_eq!(
            worker(|c| {
                c.lease = MIN_LEASE;
                c.claim_batch = 1;
                c.default_timeout = bounds::MAX_TIMEOUT;
                c.tree.descendants = 1;
            }),
            Ok(())
        );
        assert_eq!(
            worker(|c| {
                c.lease = MAX_LEASE;
                c.claim_batch = MAX_CLAIM_BATCH;
            }),
            Ok(())
        );
        let pruner = PrunerConfig {
            retention: MAX_RETENTION,
            ..PrunerConfig::default()
        };
        assert_eq!(pruner.validate(), Ok(()));
    }

    #[test]
    fn each_setting_past_its_bound_is_refused_with_its_message() {
        let refused = |change: fn(&mut WorkerConfig)| worker(change).unwrap_err().to_string();
        assert_eq!(
            refused(|c| c.lease = Duration::from_millis(10)),
            "lease 10ms is too short: a node renews it every third of it; use at least 300ms"
        );
        assert_eq!(
            refused(|c| c.lease = MAX_LEASE + Duration::from_secs(1)),
            "lease 86401s is longer than the limit of 1d: a dead node's jobs would wait that long"
        );
        assert_eq!(
            refused(|c| c.claim_batch = 0),
            "claim_batch 0 must be from 1 to 1000"
        );
        assert_eq!(
            refused(|c| c.claim_batch = 1001),
            "claim_batch 1001 must be from 1 to 1000"
        );
        assert_eq!(
            refused(|c| c.default_timeout = Duration::ZERO),
            "default timeout: timeout must be longer than 0"
        );
        assert!(
            refused(|c| c.default_timeout = bounds::MAX_TIMEOUT + Duration::from_millis(1))
                .starts_with("default timeout: timeout 604800001 ms is longer than the limit"),
        );
        assert_eq!(
            refused(|c| c.tree.descendants = 0),
            "max_job_descendants is 0: a job could enqueue no child; use at least 1"
        );
        let pruner = PrunerConfig {
            retention: MAX_RETENTION + Duration::from_secs(1),
            ..PrunerConfig::default()
        };
        assert_eq!(
            pruner.validate().unwrap_err().to_string(),
            "retention 3153600001s is longer than the limit of 100 years"
        );
    }

    #[test]
    fn the_first_bad_setting_is_the_one_reported() {
        assert_eq!(
            worker(|c| {
                c.lease = Duration::ZERO;
                c.claim_batch = 0;
                c.tree.descendants = 0;
            }),
            Err(ConfigError::LeaseTooShort(Duration::ZERO))
        );
    }
}
