//! [`list`]: the plugin files in the plugin directories, described by what a node recorded when
//! it last loaded each one, without running any guest.

use std::collections::HashMap;
use std::path::PathBuf;

use super::file::PluginFile;
use super::record::{FileKey, Record};
use super::{Error, discover};
use crate::storage::Store;

/// One plugin file and what is known about it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The file.
    pub path: PathBuf,
    /// The key of its record; `None` when the file cannot be read.
    pub key: Option<FileKey>,
    /// What is known.
    pub state: State,
}

/// What is known about a plugin file.
#[derive(Debug, Clone)]
pub enum State {
    /// A node loaded it, as it is now, with this result.
    Loaded(Record),
    /// A node loaded it, but another file now claims the same name, so a node refuses both.
    Clash {
        /// What the load found.
        record: Record,
        /// The other files that claim its name.
        others: Vec<PathBuf>,
    },
    /// A node refused it, as it is now.
    Refused(Record),
    /// No node loaded this file as it is now (with this manifest).
    NeverLoaded,
    /// It cannot be read.
    Unreadable(String),
}

/// The `.wasm` files in `dirs`, each with what a node recorded when it last loaded it.
///
/// # Errors
///
/// [`Error::Read`] for a directory that cannot be listed, [`Error::Records`] when the database
/// fails.
pub fn list(store: &dyn Store, dirs: &[PathBuf]) -> Result<Vec<Listed>, Error> {
    let mut listed = Vec::new();
    for path in discover(dirs)? {
        let (key, state) = match PluginFile::read(&path) {
            Ok(file) => {
                let state = match store.plugin_load_find(&file.key)? {
                    Some(record) if record.refusal.is_some() => State::Refused(record),
                    Some(record) => State::Loaded(record),
                    None => State::NeverLoaded,
                };
                (Some(file.key), state)
            }
            Err(error) => (None, State::Unreadable(crate::error_chain(&error))),
        };
        listed.push(Listed { path, key, state });
    }
    mark_clashes(&mut listed);
    Ok(listed)
}

/// A name claimed by several loadable files refuses each of them, as at node start.
fn mark_clashes(listed: &mut [Listed]) {
    let mut claims: HashMap<String, Vec<PathBuf>> = HashMap::new();
    for entry in listed.iter() {
        if let State::Loaded(Record {
            name: Some(name), ..
        }) = &entry.state
        {
            claims
                .entry(name.clone())
                .or_default()
                .push(entry.path.clone());
        }
    }
    for entry in listed.iter_mut() {
        let State::Loaded(record) = &entry.state else {
            continue;
        };
        let Some(paths) = record.name.as_ref().and_then(|name| claims.get(name)) else {
            continue;
        };
        if paths.len() > 1 {
            entry.state = State::Clash {
                record: record.clone(),
                others: paths
                    .iter()
                    .filter(|p| **p != entry.path)
                    .cloned()
                    .collect(),
            };
        }
    }
}

impl Listed {
    /// The entry as JSON (what `qntx plugin list --json` prints and the HTTP API answers):
    /// status (`loaded`, `refused`, `never loaded`, `unreadable`), name, version, description,
    /// path, sha256, size, when a node loaded it, why it is refused, and its handlers.
    pub fn to_json(&self) -> serde_json::Value {
        let (status, record, why) = match &self.state {
            State::Loaded(record) => ("loaded", Some(record), None),
            State::Clash { record, others } => (
                "refused",
                Some(record),
                Some(format!(
                    "named '{}', like {}",
                    record.name.as_deref().unwrap_or("?"),
                    quoted(others)
                )),
            ),
            State::Refused(record) => ("refused", Some(record), record.refusal.clone()),
            State::NeverLoaded => ("never loaded", None, None),
            State::Unreadable(reason) => ("unreadable", None, Some(reason.clone())),
        };
        let name = record.and_then(|r| r.name.clone());
        let handlers = record
            .map(|r| {
                r.handlers
                    .iter()
                    .map(|(handler, description)| {
                        serde_json::json!({
                            "name": format!("{}/{handler}", name.as_deref().unwrap_or("?")),
                            "description": description,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        serde_json::json!({
            "status": status,
            "name": name,
            "version": record.and_then(|r| r.version.clone()),
            "description": record.and_then(|r| r.description.clone()),
            "path": self.path,
            "sha256": self.key.as_ref().map(|key| &key.sha256),
            "size": record.map(|r| r.size),
            "loaded_at": record.map(|r| r.loaded_at),
            "refusal": why,
            "handlers": handlers,
        })
    }
}

/// Paths, quoted and joined with commas: `'a.wasm', 'b.wasm'`.
pub fn quoted(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}
