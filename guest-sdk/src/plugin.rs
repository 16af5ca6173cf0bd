//! The [`Plugin`] trait and the glue between it and the generated world exports.

use std::collections::BTreeMap;

use crate::bindings::qntx::plugin::types as wit;
use crate::{Job, JobError, Registration, Value};

/// Configuration values granted to the plugin by its manifest, by key.
pub type Config = BTreeMap<String, String>;

/// A plugin: who it is, what it announces, and how it runs a job.
///
/// Every method is an associated function: each job runs in a fresh instance, so there is no
/// state to carry between calls. Keep what must last in the attestation store.
pub trait Plugin {
    /// Name, version and description. The name is the plugin's identity in the store.
    fn info() -> PluginInfo;

    /// Announce handlers, schedules and watchers. An error refuses the plugin at load.
    ///
    /// `config` is the manifest's `[config]`; jobs read the same values with [`crate::config`].
    fn initialize(config: &Config) -> Result<Registration, String>;

    /// Run one attempt of a job for one of the announced handlers ([`Job::handler`]).
    ///
    /// # Errors
    ///
    /// [`JobError::Permanent`] fails the job; [`JobError::Retryable`] lets Pulse try again.
    fn execute(job: Job) -> Result<Value, JobError>;
}

/// Who a plugin is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    /// Lowercase letters, digits and `-`; the plugin's identity.
    pub name: String,
    /// Semantic version, recorded on every job the plugin runs.
    pub version: String,
    /// One line for `qntx plugin list`.
    pub description: String,
}

impl PluginInfo {
    /// Describe a plugin; pass `env!("CARGO_PKG_VERSION")` as the version.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: description.into(),
        }
    }
}

/// `metadata` export.
pub fn info<P: Plugin>() -> wit::PluginInfo {
    let info = P::info();
    wit::PluginInfo {
        name: info.name,
        version: info.version,
        description: info.description,
    }
}

/// `initialize` export.
pub fn initialize<P: Plugin>(config: Vec<(String, String)>) -> Result<wit::Registration, String> {
    P::initialize(&config.into_iter().collect()).map(Registration::into_wit)
}

/// `execute-job` export.
pub fn execute<P: Plugin>(job: wit::Job) -> Result<wit::Outcome, wit::JobError> {
    let job = Job::from_wit(job).map_err(wit::JobError::from)?;
    match P::execute(job) {
        Ok(result) => Ok(wit::Outcome {
            result: result.to_string(),
        }),
        Err(error) => Err(error.into()),
    }
}
