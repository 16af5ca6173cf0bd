//! A plugin file as read from disk, with the key its load is recorded under.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Error, manifest};
use crate::storage::FileKey;

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
