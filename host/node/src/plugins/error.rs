//! Why a plugin file was refused.

use std::path::PathBuf;

/// Why a plugin file was refused. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("reading plugin '{path}'")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("plugin '{path}' is an empty file")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file does not start with the WebAssembly magic bytes.
    #[error("plugin '{path}' is not WebAssembly (no '\\0asm' header)")]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// A core module where a component is needed.
    #[error(
        "plugin '{path}' is a core WebAssembly module, not a component; build it for \
         wasm32-wasip2 (qntx plugin build) or wrap it with 'wasm-tools component new'"
    )]
    CoreModule {
        /// The file.
        path: PathBuf,
    },
    /// The plugin's manifest is not valid.
    #[error("plugin manifest '{path}' is not valid:{}", problems.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Every problem, one line each.
        problems: Vec<String>,
    },
    /// The component does not parse or validate (for example, a truncated file).
    #[error("plugin '{path}' is not a valid component: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the validator said.
        reason: String,
    },
    /// The component targets another world or another version of ours.
    #[error("plugin '{path}' does not fit this node: {reason}")]
    WrongWorld {
        /// The file.
        path: PathBuf,
        /// Which import or export does not fit.
        reason: String,
    },
    /// `metadata` or `initialize` failed.
    #[error("plugin '{path}' failed to initialize: {reason}")]
    Initialize {
        /// The file.
        path: PathBuf,
        /// The trap, timeout or refusal.
        reason: String,
    },
    /// The plugin's metadata or registration breaks a naming rule.
    #[error("plugin '{path}': {reason}")]
    BadRegistration {
        /// The file.
        path: PathBuf,
        /// The rule.
        reason: String,
    },
    /// More than one file claims the same plugin name: each of them is refused.
    #[error(
        "plugin '{path}' is named '{name}', like {}: each file that claims a name is refused \
         until only one does; remove or rename the others",
        others.iter().map(|p| format!("'{}'", p.display())).collect::<Vec<_>>().join(", ")
    )]
    Duplicate {
        /// The file refused.
        path: PathBuf,
        /// The name they claim.
        name: String,
        /// The other files that claim it.
        others: Vec<PathBuf>,
    },
    /// The records of plugin loads could not be read or written.
    #[error("plugin load records")]
    Records(#[from] crate::storage::Error),
}
