//! Errors of the plugin runtime.

/// Errors of the plugin runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine could not be configured.
    #[error("configuring the WebAssembly engine")]
    Engine(#[source] wasmtime::Error),
    /// The compile cache directory could not be created.
    #[error("creating the compile cache '{dir}'")]
    Cache {
        /// The directory.
        dir: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Result of runtime operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
