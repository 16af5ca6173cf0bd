//! Plugin manifests: `<stem>.toml` beside `<stem>.wasm` grants a plugin more than the
//! default-deny sandbox and may set tighter limits. Without one, a plugin gets nothing beyond
//! the sandbox and the node's default limits.
//!
//! ```toml
//! name = "probe"                 # required: the plugin this manifest is for
//! version = "0.1.0"              # optional: refuse another version
//! description = "Test guest"     # optional: for people
//!
//! [grants]
//! env = ["LANG"]                 # variables passed from the node's environment
//!
//! [[grants.dirs]]
//! host = "data"                  # absolute, or relative to this file's directory
//! guest = "/data"                # where the guest sees it
//! mode = "ro"                    # "ro" (default) or "rw"
//!
//! [config]                       # passed to the plugin's `initialize`
//! greeting = "hello"
//!
//! [limits]                       # each at most the node's own limit
//! memory = "32 MiB"              # or a number of bytes
//! timeout = "10s"
//! fuel = 1_000_000               # only on a node that meters fuel
//! concurrency = 2
//! ```
//!
//! Problems are reported together, one line each with how to fix it. A limit above the node's
//! is not a problem: the node's limit wins, and the node says so at load. A writable grant that
//! reaches the node's own files (its data directory, compile cache or plugin directory) is a
//! problem: a plugin able to write there could rewrite the database, plant compiled code or
//! give itself more grants.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;

mod grants;
mod limits;

pub use grants::{NodeDir, Policy};

/// A plugin manifest as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The plugin it is for: must equal the name the component announces.
    pub name: String,
    /// When set, the version the component must announce.
    pub version: Option<String>,
    /// What the plugin does, for people.
    pub description: Option<String>,
    /// Capabilities asked for.
    #[serde(default)]
    pub grants: GrantsSpec,
    /// Values passed to `initialize`.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// Limits asked for.
    #[serde(default)]
    pub limits: LimitsSpec,
}

/// `[grants]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsSpec {
    /// Directories mapped into the guest.
    #[serde(default)]
    pub dirs: Vec<DirSpec>,
    /// Environment variables passed from the node's environment.
    #[serde(default)]
    pub env: Vec<String>,
}

/// One `[[grants.dirs]]` entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirSpec {
    /// The host directory: absolute, or relative to the manifest's directory.
    pub host: PathBuf,
    /// The absolute path where the guest sees it.
    pub guest: String,
    /// Read-only unless `rw`.
    #[serde(default)]
    pub mode: DirMode,
}

/// What a guest may do in a granted directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum DirMode {
    /// Read files and list directories.
    #[default]
    #[serde(rename = "ro")]
    ReadOnly,
    /// Also create, change and delete.
    #[serde(rename = "rw")]
    ReadWrite,
}

/// `[limits]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Linear memory: bytes, or text like `32 MiB`.
    pub memory: Option<Size>,
    /// Wall-clock time of one attempt, like `10s`.
    pub timeout: Option<String>,
    /// Fuel of one attempt.
    pub fuel: Option<u64>,
    /// Jobs running at once.
    pub concurrency: Option<usize>,
}

/// A size: a number of bytes, or text with a unit (`512 KiB`, `32 MiB`, `1 GiB`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Size {
    /// Bytes.
    Bytes(u64),
    /// Text with a unit.
    Text(String),
}

/// The manifest file that belongs to a component file.
pub fn manifest_path(wasm: &Path) -> PathBuf {
    wasm.with_extension("toml")
}

/// Read the manifest beside `wasm`, if there is one.
///
/// # Errors
///
/// [`Error::Manifest`] when it cannot be read or is not a valid manifest.
pub fn read_beside(wasm: &Path) -> Result<Option<Manifest>, Error> {
    read_text_beside(wasm)?
        .map(|text| parse_beside(wasm, &text))
        .transpose()
}

/// The text of the manifest beside `wasm`, if there is one.
///
/// # Errors
///
/// [`Error::Manifest`] when it exists but cannot be read.
pub fn read_text_beside(wasm: &Path) -> Result<Option<String>, Error> {
    let path = manifest_path(wasm);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::Manifest {
            path,
            problems: vec![format!("cannot be read: {error}")],
        }),
    }
}

/// Parse `text`, the manifest beside `wasm`.
///
/// # Errors
///
/// [`Error::Manifest`] when it is not a valid manifest.
pub fn parse_beside(wasm: &Path, text: &str) -> Result<Manifest, Error> {
    toml::from_str(text).map_err(|error| Error::Manifest {
        path: manifest_path(wasm),
        problems: vec![error.to_string().trim().replace('\n', "\n    ")],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_modes_are_refused_by_the_parser() {
        assert!(toml::from_str::<Manifest>("name = \"x\"\nnetwork = true").is_err());
        let mode = toml::from_str::<Manifest>(
            "name = \"x\"\n[[grants.dirs]]\nhost = \"/\"\nguest = \"/d\"\nmode = \"rwx\"",
        );
        assert!(mode.is_err());
    }
}
