//! Checking a handler component and turning a stored version into a Pulse registration.

use std::path::Path;
use std::sync::Arc;

use super::{Error, HandlerVersion, SHORT_SHA, registered_name, store};
use crate::plugins::{self, LoadedPlugin};
use crate::pulse::{Execution, JobHandler, Registered, RunningJob};
use crate::runtime::{Identity, PluginHandler, Runtime};
use crate::storage::Pool;
use crate::storage::Store;

/// A component that passed the checks: a component of our world whose `initialize` succeeds
/// in the sandbox and announces exactly one handler.
#[derive(Debug)]
pub struct Checked {
    /// sha256 of the bytes.
    pub sha256: String,
    /// The loaded component.
    pub plugin: LoadedPlugin,
}

/// Check `bytes` as the component of handler `name` (compile, link, `initialize`).
///
/// # Errors
///
/// [`Error::Refused`] with the loader's reason, [`Error::Announces`] for a component that does
/// not announce exactly one handler.
pub fn check(
    runtime: &Arc<Runtime>,
    name: &str,
    bytes: &[u8],
    conn: &Pool,
) -> Result<Checked, Error> {
    let label = registered_name(name);
    let plugin =
        plugins::load_bytes(runtime, Path::new(&label), bytes, conn).map_err(|source| {
            Error::Refused {
                name: name.to_owned(),
                source,
            }
        })?;
    if plugin.handlers.len() != 1 {
        return Err(Error::Announces {
            name: name.to_owned(),
            count: plugin.handlers.len(),
        });
    }
    Ok(Checked {
        sha256: plugin.sha256.clone(),
        plugin,
    })
}

/// The component bytes of `version`, checked against their sha256.
///
/// # Errors
///
/// [`Error::MissingComponent`], [`Error::Corrupt`], [`Error::Storage`].
pub fn component_bytes(db: &dyn Store, version: &HandlerVersion) -> Result<Vec<u8>, Error> {
    let name = &version.name;
    let bytes = store::component(db, &version.sha256)?.ok_or_else(|| Error::MissingComponent {
        name: name.clone(),
        sha256: version.sha256.clone(),
    })?;
    let actual = store::sha256(&bytes);
    if actual != version.sha256 {
        return Err(Error::Corrupt {
            name: name.clone(),
            sha256: version.sha256.clone(),
            actual,
        });
    }
    Ok(bytes)
}

/// Build the registration of `version` (whose component is `bytes`) as `handler/NAME`:
/// attestations by actor `handler:NAME` with `source = NAME@<sha256 prefix>`, jobs given the
/// handler name the component announced and recording the full sha256.
///
/// # Errors
///
/// The reasons of [`check`].
pub fn job_handler(
    runtime: &Arc<Runtime>,
    conn: &Pool,
    version: &HandlerVersion,
    bytes: &[u8],
) -> Result<Registered, Error> {
    let name = &version.name;
    let checked = check(runtime, name, bytes, conn)?;
    let identity = Identity::handler(name, &version.sha256[..SHORT_SHA]);
    let announced = checked.plugin.handlers[0].0.clone();
    // A user handler has no manifest: the default policy, no grants.
    let inner = PluginHandler::new(
        runtime.clone(),
        checked.plugin.pre.clone(),
        identity,
        checked.plugin.policy.limits.clone(),
        checked.plugin.policy.grants.clone(),
    )
    .announced_as(announced);
    Ok(Registered {
        handler: registered_name(name),
        plugin: super::PREDICATE.to_owned(),
        version: version.sha256.clone(),
        description: version.description.clone(),
        target: Arc::new(Versioned {
            inner,
            sha256: version.sha256.clone(),
        }),
    })
}

/// A handler's sandbox, recording the full sha256 of the version on each job it runs.
struct Versioned {
    inner: PluginHandler,
    sha256: String,
}

impl JobHandler for Versioned {
    fn concurrency(&self) -> Option<usize> {
        self.inner.concurrency()
    }

    fn execute(&self, job: &RunningJob) -> Execution {
        Execution {
            plugin_version: self.sha256.clone(),
            ..self.inner.execute(job)
        }
    }
}
