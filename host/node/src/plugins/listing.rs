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
