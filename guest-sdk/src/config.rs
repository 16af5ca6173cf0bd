//! The plugin's configuration: the `[config]` table of its manifest, readable in every job and
//! at `initialize` (the same values [`crate::Plugin::initialize`] receives).
//!
//! Values are strings as the manifest writes them (`3`, `1.5`, `true`, `hello`); [`parse`]
//! turns one into the type a job needs.
//!
//! ```no_run
//! use qntx_guest::{Job, JobError, Value, config, json};
//!
//! fn handle(_job: Job) -> Result<Value, JobError> {
//!     let endpoint = config::require("endpoint")?;
//!     let retries: u32 = config::parse("retries")?.unwrap_or(3);
//!     Ok(json!({ "endpoint": endpoint, "retries": retries }))
//! }
//! ```

use std::fmt::Display;
use std::str::FromStr;

use crate::bindings::qntx::plugin::config;
use crate::{Config, JobError};

/// The value of `key`, or `None` when the manifest does not set it.
pub fn get(key: &str) -> Option<String> {
    config::get(key)
}

/// Every key and value.
pub fn all() -> Config {
    config::get_all().into_iter().collect()
}

/// The value of `key`, which the plugin cannot work without.
///
/// # Errors
///
/// A permanent [`JobError`] naming the key when the manifest does not set it.
pub fn require(key: &str) -> Result<String, JobError> {
    get(key).ok_or_else(|| {
        JobError::permanent(format!(
            "config '{key}' is not set: add it under [config] in the plugin's manifest"
        ))
    })
}

/// The value of `key` parsed as a `T`, or `None` when the manifest does not set it.
///
/// # Errors
///
/// A permanent [`JobError`] naming the key, the value and why it does not parse.
pub fn parse<T>(key: &str) -> Result<Option<T>, JobError>
where
    T: FromStr,
    T::Err: Display,
{
    get(key)
        .map(|value| {
            value.parse().map_err(|error| {
                JobError::permanent(format!(
                    "config '{key}' is '{value}', which is not a valid {}: {error}",
                    std::any::type_name::<T>()
                ))
            })
        })
        .transpose()
}
