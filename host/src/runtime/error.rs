//! Errors of the plugin runtime.

/// Errors of the plugin runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine could not be configured.
    #[error("configuring the WebAssembly engine")]
    Engine(#[source] wasmtime::Error),
}

/// Result of runtime operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
