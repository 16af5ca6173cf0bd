//! What a node recorded when it last loaded a plugin file, so that listing and inspecting
//! plugins need not run their code. A record is keyed by the sha256 of the component and of
//! its manifest ([`FileKey`]): a changed file has no record until it is loaded again. Records
//! are kept through the storage seam ([`crate::storage::PluginLoads`]).

use super::file::PluginFile;
pub use crate::storage::{FileKey, Record};

use super::{Error, LoadedPlugin};

/// The record of a plugin that loaded.
pub fn loaded(plugin: &LoadedPlugin, now: i64) -> Record {
    Record {
        path: plugin.path.clone(),
        size: plugin.size,
        name: Some(plugin.name.clone()),
        version: Some(plugin.version.clone()),
        description: Some(plugin.description.clone()),
        handlers: plugin.handlers.clone(),
        notes: plugin.policy.notes.clone(),
        refusal: None,
        loaded_at: now,
    }
}

/// The record of a file that was refused.
pub fn refused(file: &PluginFile, error: &Error, now: i64) -> Record {
    Record {
        path: file.path.clone(),
        size: file.bytes.len() as u64,
        name: None,
        version: None,
        description: None,
        handlers: Vec::new(),
        notes: Vec::new(),
        refusal: Some(crate::error_chain(error)),
        loaded_at: now,
    }
}
