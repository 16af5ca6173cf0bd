//! [`Grants`]: what a plugin may use beyond the default-deny sandbox, as its manifest says and
//! the node resolved it at load.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Capabilities granted to one plugin. The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Host directories the guest sees as preopened directories.
    pub dirs: Vec<DirGrant>,
    /// Environment variables, with the values they had in the node's environment at load.
    pub env: Vec<(String, String)>,
    /// The manifest's `[config]` as strings, sorted by key: what `initialize` receives and the
    /// `config` interface returns in every job. Shared, so a job's context copies no values.
    pub config: Arc<[(String, String)]>,
}

/// One host directory mapped into the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The directory on the host (absolute).
    pub host: PathBuf,
    /// Where the guest sees it (`/data`).
    pub guest: String,
    /// Whether the guest may create, change and delete files in it.
    pub writable: bool,
}

impl Grants {
    /// Switch the granted capabilities on in `builder`.
    ///
    /// # Errors
    ///
    /// A granted directory that cannot be opened (removed since the plugin loaded).
    pub(crate) fn apply(&self, builder: &mut WasiCtxBuilder) -> Result<(), String> {
        for dir in &self.dirs {
            let perms = if dir.writable {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            builder
                .preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|error| {
                    format!(
                        "granted directory '{}' cannot be opened: {error}",
                        dir.host.display()
                    )
                })?;
        }
        for (name, value) in &self.env {
            builder.env(name, value);
        }
        Ok(())
    }
}
