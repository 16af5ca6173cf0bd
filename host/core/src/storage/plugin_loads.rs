//! The statements of plugin loads: what a node found when it last loaded a plugin file, keyed
//! by the file's content, so that listing and inspecting plugins need not run their code.

use std::path::PathBuf;

use serde::Serialize;

use super::Result;

/// What a record is keyed by: the sha256 of a component and of the manifest beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileKey {
    /// sha256 of the component, hex.
    pub sha256: String,
    /// sha256 of the manifest's text, hex; empty when there is no manifest.
    pub manifest_sha256: String,
}

/// What a node found when it loaded a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Where the file was when it was loaded.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The plugin's name, when it got that far.
    pub name: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// Announced handlers: own name and description.
    pub handlers: Vec<(String, String)>,
    /// What the node changed or ignored in the manifest.
    pub notes: Vec<String>,
    /// Why the file was refused; `None` when it loaded.
    pub refusal: Option<String>,
    /// When, Unix milliseconds.
    pub loaded_at: i64,
}

/// Records of plugin loads.
pub trait PluginLoads {
    /// Store `record` as what loading the file with `key` gave, replacing an older one.
    fn plugin_load_save(&self, key: &FileKey, record: &Record) -> Result<()>;

    /// Store each of `records`, all or nothing.
    fn plugin_load_save_all(&self, records: &[(FileKey, Record)]) -> Result<()>;

    /// What a node recorded for the file with `key`, if one ever loaded it.
    fn plugin_load_find(&self, key: &FileKey) -> Result<Option<Record>>;
}
