//! Turning source into components: `qntx plugin build` compiles a plugin crate for
//! `wasm32-wasip2`; `qntx handler create` compiles one handler file (Rust, Python or
//! JavaScript, see [`build_handler`]); the node then checks the result against the
//! `qntx:plugin` world.
//!
//! The Rust toolchain is the one `rustup` selects in the crate's directory. The target is
//! installed on first use. Guests are built in release mode, optimised for size, with LTO,
//! whatever the crate's own profile says: their size is load time and instance memory.

mod cargo;
mod handler;
mod install;
pub mod sdk;

pub use cargo::{BuildOptions, Built, build_crate, ensure_wasm_target};
pub use handler::{HandlerSource, Language, build_handler};
pub use install::{
    COMPONENTIZE_JS, COMPONENTIZE_PY, componentize_js, componentize_py, toolchains_dir,
};

pub(crate) use cargo::run;

use std::path::PathBuf;

/// The target every guest is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tool could not be started.
    #[error("running '{program}'; is the Rust toolchain installed (https://rustup.rs)?")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The wasm target is missing and could not be installed.
    #[error(
        "the {WASM_TARGET} target is not installed and 'rustup target add {WASM_TARGET}' failed: {output}"
    )]
    Target {
        /// What rustup said.
        output: String,
    },
    /// The path is not a crate that can become a component.
    #[error("'{path}' is not a plugin crate: {reason}")]
    NotACrate {
        /// The path given.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// The compiler rejected the code.
    #[error("compiling '{package}' failed:\n{diagnostics}")]
    Compile {
        /// The package.
        package: String,
        /// The compiler's errors, one `file:line:col: error: ...` per line.
        diagnostics: String,
    },
    /// A handler's source did not compile.
    #[error("compiling handler '{label}' failed:\n{diagnostics}")]
    HandlerCompile {
        /// The source file given (or `<code>`).
        label: String,
        /// The compiler's messages, naming `label` and a line.
        diagnostics: String,
    },
    /// A program a build needs is not installed.
    #[error("{tool} was not found: {install}")]
    Missing {
        /// The program.
        tool: String,
        /// What to install.
        install: String,
    },
    /// Installing a toolchain failed.
    #[error("installing {what} failed: {output}")]
    Install {
        /// What was being installed.
        what: String,
        /// What the installer said.
        output: String,
    },
    /// A file of a build could not be written or read.
    #[error("accessing '{path}'")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Cargo succeeded but produced no component.
    #[error("building '{package}' produced no .wasm file")]
    NoArtifact {
        /// The package.
        package: String,
    },
}
