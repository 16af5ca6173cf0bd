//! What a node recorded when it last loaded a plugin file, so that listing and inspecting
//! plugins need not run their code. A record is keyed by the sha256 of the component and of
//! its manifest ([`FileKey`]): a changed file has no record until it is loaded again.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Error, LoadedPlugin, manifest};

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/", $name, ".sql"))
    };
}

/// What a record is keyed by: the sha256 of a component and of the manifest beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileKey {
    /// sha256 of the component, hex.
    pub sha256: String,
    /// sha256 of the manifest's text, hex; empty when there is no manifest.
    pub manifest_sha256: String,
}

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

impl Record {
    /// The record of a plugin that loaded.
    pub fn loaded(plugin: &LoadedPlugin, now: i64) -> Self {
        Self {
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
    pub fn refused(file: &PluginFile, error: &Error, now: i64) -> Self {
        Self {
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
}

/// Store `record` as what loading the file with `key` gave, replacing an older one.
///
/// # Errors
///
/// When the database fails.
pub fn save(conn: &Connection, key: &FileKey, record: &Record) -> rusqlite::Result<()> {
    conn.prepare_cached(sql!("plugin_load_put"))?
        .execute(params![
            key.sha256,
            key.manifest_sha256,
            record.path.to_string_lossy(),
            i64::try_from(record.size).unwrap_or(i64::MAX),
            record.name,
            record.version,
            record.description,
            json(&record.handlers),
            json(&record.notes),
            record.refusal,
            record.loaded_at,
        ])?;
    Ok(())
}

/// [`save`] each of `records`, in one transaction.
///
/// # Errors
///
/// When the database fails; nothing is saved then.
pub fn save_all(conn: &Connection, records: &[(FileKey, Record)]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    for (key, record) in records {
        save(&tx, key, record)?;
    }
    tx.commit()
}

/// What a node recorded for the file with `key`, if it ever loaded it.
///
/// # Errors
///
/// When the database fails.
pub fn find(conn: &Connection, key: &FileKey) -> rusqlite::Result<Option<Record>> {
    conn.prepare_cached(sql!("plugin_load_get"))?
        .query_row(params![key.sha256, key.manifest_sha256], |row| {
            let path: String = row.get(0)?;
            let size: i64 = row.get(1)?;
            let handlers: String = row.get(5)?;
            let notes: String = row.get(6)?;
            Ok(Record {
                path: PathBuf::from(path),
                size: u64::try_from(size).unwrap_or_default(),
                name: row.get(2)?,
                version: row.get(3)?,
                description: row.get(4)?,
                handlers: serde_json::from_str(&handlers).unwrap_or_default(),
                notes: serde_json::from_str(&notes).unwrap_or_default(),
                refusal: row.get(7)?,
                loaded_at: row.get(8)?,
            })
        })
        .optional()
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}
