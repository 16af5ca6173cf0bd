//! `handler create`, for every front end: build the source, check the component, store it as
//! the handler's new version. Nothing is stored unless every step passes.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Error, Install, check, check_name, install};
use crate::plugins::Checker;
use crate::storage::Connection;
use crate::toolchain::{self, HandlerSource, Language};

/// A version created.
#[derive(Debug, Clone)]
pub struct Created {
    /// sha256 of the component, the version's id.
    pub sha256: String,
    /// Size of the component, bytes.
    pub size: usize,
    /// Time taken to build it.
    pub built: Duration,
    /// Time taken to check it.
    pub checked: Duration,
}

/// Why a handler was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// A bad name, or a component that failed the checks.
    #[error(transparent)]
    Handler(#[from] Error),
    /// The source did not build, or a toolchain is missing.
    #[error(transparent)]
    Build(#[from] toolchain::Error),
    /// Storing the checked version failed.
    #[error("recording handler '{name}'")]
    Record {
        /// The handler.
        name: String,
        /// The cause.
        #[source]
        source: Error,
    },
}

/// Build `source` with the toolchains in `toolchains`, check the component with `checker` and
/// record it in `conn` as the current version of handler `source.name`.
///
/// # Errors
///
/// [`CreateError::Handler`] for a bad name or a refused component (the reason is its source),
/// [`CreateError::Build`] with the compiler's messages, [`CreateError::Record`] when the store
/// fails; nothing is stored then.
pub fn create(
    conn: &mut dyn Connection,
    checker: &Checker,
    toolchains: &Path,
    source: &HandlerSource<'_>,
    now: i64,
) -> Result<Created, CreateError> {
    let name = source.name;
    check_name(name)?;
    let started = Instant::now();
    let bytes = toolchain::build_handler(toolchains, source)?;
    let built = started.elapsed();
    let started = Instant::now();
    let checked = check(&checker.runtime, name, &bytes, &checker.scratch)?;
    let check_time = started.elapsed();
    let text = match source.language {
        Language::Wasm => String::new(),
        _ => String::from_utf8_lossy(source.code).into_owned(),
    };
    let sha256 = install(
        conn,
        &Install {
            name,
            bytes: &bytes,
            checked: &checked,
            language: source.language.as_str(),
            source: &text,
            description: source.description,
        },
        now,
    )
    .map_err(|source| CreateError::Record {
        name: name.to_owned(),
        source,
    })?;
    Ok(Created {
        sha256,
        size: bytes.len(),
        built,
        checked: check_time,
    })
}
