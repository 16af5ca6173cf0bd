//! [`inspect`]: what a plugin file is, what it asks for, and whether this node would load it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::Error;
use super::file::PluginFile;
use super::load::import_names;
use super::manifest::{self, Manifest};
use super::record;
use crate::runtime::{self, Runtime};
use crate::storage::Pool;
use crate::storage::Store;

/// What [`inspect`] found out about a plugin file.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256, hex.
    pub sha256: String,
    /// The plugin's name, when it loads.
    pub name: Option<String>,
    /// Its version, when it loads.
    pub version: Option<String>,
    /// Its description, when it loads.
    pub description: Option<String>,
    /// The WIT world it targets, as far as its imports and exports tell.
    pub world: String,
    /// Its imports, each with what this node makes of it.
    pub imports: Vec<Import>,
    /// Its exports, by name.
    pub exports: Vec<String>,
    /// The handlers it announces, when it loads.
    pub handlers: Vec<String>,
    /// The manifest beside it, when there is one.
    pub manifest: Option<PathBuf>,
    /// What the manifest asks for, as written.
    pub requested: Option<Manifest>,
    /// What the node changed or ignored in the manifest.
    pub notes: Vec<String>,
    /// Whether this node would load it.
    pub loads: bool,
    /// When a node recorded what the file announced (Unix milliseconds), if the answer comes
    /// from that record; `None` when no node had loaded it, so `initialize` ran now.
    pub recorded_at: Option<i64>,
    /// Whether the guest's `initialize` ran for this answer (with the node's timeout).
    pub ran_initialize: bool,
    /// Why not, when it would not.
    pub refusal: Option<String>,
}

/// One import and this node's answer to it.
#[derive(Debug, Clone, Serialize)]
pub struct Import {
    /// The import's name, `package/interface@version`.
    pub name: String,
    /// `linked`, `linked, inert without a grant`, or why it is refused.
    pub status: String,
}

/// Look at `path`: what it is, and whether this node would load it. What it announces comes
/// from what a node recorded when it last loaded this very file (same sha256, same manifest);
/// only a file no node has loaded is loaded here, in `scratch` (running its `initialize` once,
/// within the node's timeout), and the result recorded in `records`.
///
/// # Errors
///
/// Only when the file cannot be read; everything else is part of the answer.
pub fn inspect(
    runtime: &Arc<Runtime>,
    path: &Path,
    records: &dyn Store,
    scratch: &Pool,
) -> std::io::Result<Inspection> {
    let (file, unreadable_manifest) = match PluginFile::read(path) {
        Ok(file) => (file, None),
        Err(Error::Read { source, .. }) => return Err(source),
        Err(error) => (PluginFile::without_manifest(path)?, Some(error)),
    };
    let bytes = &file.bytes;
    let manifest_file = manifest::manifest_path(path);
    let requested = manifest::read_beside(path).ok().flatten();
    let mut inspection = Inspection {
        path: path.to_owned(),
        size: bytes.len() as u64,
        sha256: file.key.sha256.clone(),
        name: None,
        version: None,
        description: None,
        world: "none: not a component".into(),
        imports: Vec::new(),
        exports: Vec::new(),
        handlers: Vec::new(),
        manifest: manifest_file.is_file().then_some(manifest_file),
        requested,
        notes: Vec::new(),
        loads: false,
        recorded_at: None,
        ran_initialize: false,
        refusal: None,
    };
    let is_component = bytes.starts_with(b"\0asm") && !wasmparser::Parser::is_core_wasm(bytes);
    if is_component && let Ok(component) = runtime.compile(bytes, &inspection.sha256) {
        let ty = component.component_type();
        inspection.imports = import_names(runtime, &component)
            .into_iter()
            .map(|name| Import {
                status: import_status(&name),
                name,
            })
            .collect();
        inspection.exports = ty
            .exports(runtime.engine())
            .map(|(name, _)| name.to_owned())
            .collect();
        inspection.world = world_of(&inspection.imports, &inspection.exports);
    }
    let recorded = records.plugin_load_find(&file.key).ok().flatten();
    let record = match (unreadable_manifest, recorded) {
        (Some(error), _) => record::refused(&file, &error, crate::clock::now_ms()),
        (None, Some(record)) => {
            inspection.recorded_at = Some(record.loaded_at);
            record
        }
        (None, None) => {
            inspection.ran_initialize = true;
            let now = crate::clock::now_ms();
            let record = match super::load_file(runtime, &file, scratch) {
                Ok(plugin) => record::loaded(&plugin, now),
                Err(error) => record::refused(&file, &error, now),
            };
            if let Err(error) = records.plugin_load_save(&file.key, &record) {
                tracing::warn!(error = %crate::error_chain(&error), "recording the plugin load failed");
            }
            record
        }
    };
    inspection.handlers = record
        .handlers
        .iter()
        .map(|(handler, _)| format!("{}/{handler}", record.name.as_deref().unwrap_or("?")))
        .collect();
    inspection.loads = record.refusal.is_none();
    inspection.name = record.name;
    inspection.version = record.version;
    inspection.description = record.description;
    inspection.notes = record.notes;
    inspection.refusal = record.refusal;
    Ok(inspection)
}

fn import_status(name: &str) -> String {
    if let Some(refusal) = runtime::refuse_import(name) {
        return format!("refused: {refusal}");
    }
    let gated = ["wasi:filesystem/", "wasi:sockets/", "wasi:cli/environment"];
    if gated.iter().any(|prefix| name.starts_with(prefix)) {
        "linked, inert without a grant".into()
    } else {
        "linked".into()
    }
}

/// `qntx:plugin/plugin@V` when the exports are those of our world, else a description.
fn world_of(imports: &[Import], exports: &[String]) -> String {
    let ours = ["metadata", "initialize", "execute-job"];
    if !ours
        .iter()
        .all(|export| exports.iter().any(|e| e == export))
    {
        return format!(
            "not {}: it does not export metadata, initialize and execute-job",
            runtime::WORLD
        );
    }
    world_built_for(imports.iter().map(|import| import.name.as_str()))
}

/// The world a component of ours was built for (`qntx:plugin/plugin@0.1.0`), from the version
/// of its `qntx:plugin` imports; one that imports none is taken to be of this node's version.
pub fn world_built_for<'a>(imports: impl IntoIterator<Item = &'a str>) -> String {
    let version = imports
        .into_iter()
        .filter_map(|import| import.strip_prefix(&format!("{}/", runtime::PACKAGE)))
        .find_map(|rest| rest.split_once('@').map(|(_, version)| version.to_owned()))
        .unwrap_or_else(|| runtime::VERSION.to_owned());
    format!("{}/plugin@{version}", runtime::PACKAGE)
}
