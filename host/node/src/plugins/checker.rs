//! What checking a component needs outside a running node: a runtime and an empty store for
//! the `initialize` it calls. `qntx plugin inspect`, `qntx handler create` and the HTTP API
//! check components with it.

use std::path::PathBuf;
use std::sync::Arc;

use crate::runtime::{Runtime, RuntimeConfig};
use crate::sqlite::SqliteBackend;
use crate::storage::Pool;

/// Why a checker could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CheckerError {
    /// The engine could not be created.
    #[error("creating the runtime that checks components")]
    Runtime(#[from] crate::runtime::Error),
    /// The scratch store could not be created.
    #[error("creating the scratch store of checks")]
    Scratch(#[from] crate::sqlite::Error),
}

/// A runtime for checking components and a scratch store for their `initialize` calls.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The runtime, without the pooling allocator's reservations.
    pub runtime: Arc<Runtime>,
    /// An empty store: what a checked `initialize` writes is thrown away.
    pub scratch: Pool,
}

impl Checker {
    /// A checker whose runtime compiles into `cache_dir` (the node's compile cache: entries are
    /// keyed by engine settings, so a difference from the node's engine only means separate
    /// entries), or caches nothing.
    ///
    /// # Errors
    ///
    /// [`CheckerError`] when the engine or the scratch store cannot be created.
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Self, CheckerError> {
        Ok(Self {
            runtime: checking_runtime(cache_dir)?,
            scratch: scratch_store()?,
        })
    }
}

/// A runtime for checking components, without the pooling allocator's reservations.
///
/// # Errors
///
/// [`crate::runtime::Error`] when wasmtime rejects the configuration.
pub fn checking_runtime(cache_dir: Option<PathBuf>) -> Result<Arc<Runtime>, crate::runtime::Error> {
    Ok(Arc::new(Runtime::new(RuntimeConfig {
        pooling: false,
        cache_dir,
        ..RuntimeConfig::default()
    })?))
}

/// An empty store for `initialize` calls made only to check a plugin.
///
/// # Errors
///
/// [`crate::sqlite::Error`] when the temporary database cannot be created.
pub fn scratch_store() -> Result<Pool, crate::sqlite::Error> {
    Ok(Pool::new(Arc::new(SqliteBackend::temporary()?), 1))
}
