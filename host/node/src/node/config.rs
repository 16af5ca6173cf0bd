//! The rules on a [`NodeConfig`] that every front end shares.

use std::time::Duration;

use super::NodeConfig;
use crate::pulse::ConfigError;

impl NodeConfig {
    /// Set the wall-clock limit of attempts whose job names none, and raise the sandbox's
    /// ceiling on every attempt ([`crate::runtime::Limits::timeout`]) to at least as long.
    pub fn set_default_timeout(&mut self, timeout: Duration) {
        self.worker.default_timeout = timeout;
        let ceiling = &mut self.runtime.limits.timeout;
        *ceiling = (*ceiling).max(timeout);
    }

    /// Check the settings [`super::Node::start`] refuses: the worker's default timeout, lease
    /// and claim batch, the pruner's retention, then the job tree limits.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, in that order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.worker.validate_claims()?;
        self.pruner.validate()?;
        self.worker.tree.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{Error, Node};

    fn config(dir: &std::path::Path) -> NodeConfig {
        NodeConfig::new(dir.to_owned(), Vec::new())
    }

    #[test]
    fn a_longer_default_timeout_raises_the_sandbox_ceiling_and_a_shorter_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        let ceiling = config.runtime.limits.timeout;
        config.set_default_timeout(ceiling * 2);
        assert_eq!(config.worker.default_timeout, ceiling * 2);
        assert_eq!(config.runtime.limits.timeout, ceiling * 2);
        config.set_default_timeout(Duration::from_millis(1));
        assert_eq!(config.worker.default_timeout, Duration::from_millis(1));
        assert_eq!(config.runtime.limits.timeout, ceiling * 2, "kept");
    }

    #[test]
    fn settings_are_checked_in_order_and_a_node_refuses_to_start_on_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(config(dir.path()).validate(), Ok(()));
        let mut bad = config(dir.path());
        bad.worker.tree.descendants = 0;
        bad.pruner.retention = crate::pulse::MAX_RETENTION * 2;
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::RetentionTooLong(_))
        ));
        bad.worker.lease = Duration::from_millis(10);
        let error = Node::start(bad).expect_err("a 10ms lease is refused");
        assert!(matches!(
            error,
            Error::Config(ConfigError::LeaseTooShort(_))
        ));
        assert_eq!(
            error.to_string(),
            "lease 10ms is too short: a node renews it every third of it; use at least 300ms"
        );
        assert!(
            !dir.path().join(crate::sqlite::FILE_NAME).exists(),
            "refused before the database is opened"
        );
    }
}
