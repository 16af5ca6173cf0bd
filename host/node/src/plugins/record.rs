//! What a node recorded when it last loaded a plugin file, so that listing and inspecting
//! plugins need not run their code. A record is keyed by the sha256 of the component and of
//! its manifest ([`FileKey`]): a changed file has no record until it is loaded again. Records
//! are kept through the storage seam ([`crate::storage::PluginLoads`]).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use crate::storage::{FileKey, Record};

use super::{Error, LoadedPlugin, manifest};

/// A plugin file as read from disk: its bytes, its manifest's text, and their key.
#[derive(Debug)]
pub struct PluginFile {
    /// The component file.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The text of the manifest beside it.
    pub manifest: Option<String>,
    /// The key of its record.
    pub key: FileKey,
}

impl PluginFile {
    /// Read `path` and the manifest beside it.
    ///
    /// # Errors
    ///
    /// [`Error::Read`] for the component, [`Error::Manifest`] for a manifest that exists but
    /// cannot be read.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let manifest = manifest::read_text_beside(path)?;
        let key = FileKey {
            sha256: hex::encode(Sha256::digest(&bytes)),
            manifest_sha256: manifest
                .as_deref()
                .map(|text| hex::encode(Sha256::digest(text)))
                .unwrap_or_default(),
        };
        Ok(Self {
            path: path.to_owned(),
            bytes,
            manifest,
            key,
        })
    }

    /// Read the component at `path` alone, as if it had no manifest.
    ///
    /// # Errors
    ///
    /// When it cannot be read.
    pub fn without_manifest(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        Ok(Self {
            path: path.to_owned(),
            key: FileKey {
                sha256: hex::encode(Sha256::digest(&bytes)),
                manifest_sha256: String::new(),
            },
            bytes,
            manifest: None,
        })
    }
}

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
