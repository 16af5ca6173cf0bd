//! Loading plugin files: read → check → manifest → compile (or load from the compile cache) →
//! check imports → link → initialize → register.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::Error;
use super::file::PluginFile;
use super::manifest::{self, Manifest, NodeDir, Policy};
use crate::pulse::triggers::{ScheduleSpec, WatcherSpec};
use crate::pulse::{Registered, Registry};
use crate::runtime::{self, Identity, JobCtx, PluginHandler, PluginPre, Runtime};
use crate::storage::Pool;

/// A plugin that loaded and initialized.
pub struct LoadedPlugin {
    /// The component file.
    pub path: PathBuf,
    /// sha256 of the file, hex.
    pub sha256: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// The plugin's name: its identity and handler prefix.
    pub name: String,
    /// Its version.
    pub version: String,
    /// What it does.
    pub description: String,
    /// Announced handlers: own name and description.
    pub handlers: Vec<(String, String)>,
    /// Announced schedules, with full handler names.
    pub schedules: Vec<ScheduleSpec>,
    /// Announced watchers, with full handler names.
    pub watchers: Vec<WatcherSpec>,
    /// The manifest file, when there is one.
    pub manifest: Option<PathBuf>,
    /// Its grants and effective limits.
    pub policy: Policy,
    /// The component's imports, by name.
    pub imports: Vec<String>,
    pub(crate) pre: Arc<PluginPre<JobCtx>>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("version", &self.version)
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// The full name under which a handler of this plugin is registered.
    pub fn handler_name(&self, handler: &str) -> String {
        format!("{}/{handler}", self.name)
    }

    /// The component, linked and ready to instantiate.
    pub fn pre(&self) -> &PluginPre<JobCtx> {
        &self.pre
    }

    /// Register every announced handler with Pulse, replacing this plugin's earlier ones.
    pub fn register(&self, runtime: &Arc<Runtime>, registry: &Registry) {
        registry.unregister_plugin(&self.name);
        let handler = Arc::new(PluginHandler::new(
            runtime.clone(),
            self.pre.clone(),
            Identity::plugin(&self.name, &self.version),
            self.policy.limits.clone(),
            self.policy.grants.clone(),
        ));
        for (name, description) in &self.handlers {
            registry.register(Registered {
                handler: self.handler_name(name),
                plugin: self.name.clone(),
                version: self.version.clone(),
                description: description.clone(),
                target: handler.clone(),
            });
        }
    }
}

/// The `.wasm` files in `dirs`, sorted by name within each directory.
///
/// # Errors
///
/// [`Error::Read`] for a directory that cannot be listed.
pub fn discover(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for dir in dirs {
        let read = |source| Error::Read {
            path: dir.clone(),
            source,
        };
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read)? {
            let path = entry.map_err(read)?.path();
            if path.extension().is_some_and(|ext| ext == "wasm") && path.is_file() {
                found.push(path);
            }
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Load one plugin file: check it is a component of our world, compile it, call `metadata`
/// and `initialize`, and check what it announces.
///
/// # Errors
///
/// [`Error`] with a reason specific to what is wrong with the file.
pub fn load(runtime: &Arc<Runtime>, path: &Path, conn: &Pool) -> Result<LoadedPlugin, Error> {
    load_file(runtime, &PluginFile::read(path)?, conn)
}

/// [`load`] for a file already read.
///
/// # Errors
///
/// As [`load`].
pub fn load_file(
    runtime: &Arc<Runtime>,
    file: &PluginFile,
    conn: &Pool,
) -> Result<LoadedPlugin, Error> {
    load_file_naming(runtime, file, conn, &|_| {})
}

/// [`load_file`], calling `named` with the only name the plugin can load under as soon as
/// that is known: its manifest's name, before anything runs, or else what `metadata` answers,
/// before `initialize`.
pub(crate) fn load_file_naming(
    runtime: &Arc<Runtime>,
    file: &PluginFile,
    conn: &Pool,
    named: &dyn Fn(&str),
) -> Result<LoadedPlugin, Error> {
    let manifest = file
        .manifest
        .as_deref()
        .map(|text| manifest::parse_beside(&file.path, text))
        .transpose()?;
    // A manifest whose name differs from the component's refuses the file.
    if let Some(manifest) = &manifest {
        named(&manifest.name);
    }
    let has_manifest = manifest.is_some();
    let named_by_metadata = |name: &str| {
        if !has_manifest {
            named(name);
        }
    };
    load_component(
        runtime,
        &file.path,
        &file.bytes,
        manifest,
        conn,
        &named_by_metadata,
    )
}

/// [`load`] for a component already in memory (a user handler's, from the database), with no
/// manifest: the default policy, no grants. `path` names it in errors.
///
/// # Errors
///
/// As [`load`].
pub fn load_bytes(
    runtime: &Arc<Runtime>,
    path: &Path,
    bytes: &[u8],
    conn: &Pool,
) -> Result<LoadedPlugin, Error> {
    load_component(runtime, path, bytes, None, conn, &|_| {})
}

/// The node's own directories, which no writable grant may reach: the data directory and the
/// database's (on SQLite), the compile cache, and the directory the plugin was loaded from.
fn node_dirs(runtime: &Runtime, plugin_dir: &Path, conn: &Pool) -> Vec<NodeDir> {
    let config = runtime.config();
    let database = conn
        .backend()
        .local_dir()
        .filter(|dir| config.data_dir.as_deref() != Some(dir.as_path()));
    [
        config
            .data_dir
            .as_deref()
            .and_then(|dir| NodeDir::at("data directory", dir, false)),
        database.and_then(|dir| NodeDir::at("database directory", &dir, false)),
        config
            .cache_dir
            .as_deref()
            .and_then(|dir| NodeDir::at("compile cache", dir, true)),
        NodeDir::at("plugin directory", plugin_dir, false),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn load_component(
    runtime: &Arc<Runtime>,
    path: &Path,
    bytes: &[u8],
    found: Option<Manifest>,
    conn: &Pool,
    named: &dyn Fn(&str),
) -> Result<LoadedPlugin, Error> {
    let path = path.to_owned();
    if bytes.is_empty() {
        return Err(Error::Empty { path });
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(Error::NotWasm { path });
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(Error::CoreModule { path });
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    let node_limits = &runtime.config().limits;
    let policy = match &found {
        Some(manifest) => {
            let base = path.parent().unwrap_or(Path::new("."));
            manifest
                .resolve(
                    base,
                    node_limits,
                    runtime.config().fuel,
                    &node_dirs(runtime, base, conn),
                )
                .map_err(|problems| Error::Manifest {
                    path: manifest::manifest_path(&path),
                    problems,
                })?
        }
        None => Policy::default_for(node_limits),
    };
    // Compiled from the bytes just hashed: the sha256 is that of the code that runs, and
    // the cache entry is looked up by it.
    let component = runtime
        .compile(bytes, &sha256)
        .map_err(|error| Error::Invalid {
            path: path.clone(),
            reason: format!("{error:#}"),
        })?;
    let imports = import_names(runtime, &component);
    check_world(runtime, &component).map_err(|reason| Error::WrongWorld {
        path: path.clone(),
        reason,
    })?;
    let linker = runtime::new_linker(runtime.engine()).map_err(|error| Error::WrongWorld {
        path: path.clone(),
        reason: format!("{error:#}"),
    })?;
    let pre = linker
        .instantiate_pre(&component)
        .and_then(PluginPre::new)
        .map_err(|error| Error::WrongWorld {
            path: path.clone(),
            reason: format!("{error:#}"),
        })?;
    let hint = path
        .file_stem()
        .map_or_else(|| "plugin".into(), |s| s.to_string_lossy().into_owned());
    let announcement = runtime::initialize(
        runtime,
        &pre,
        &hint,
        &policy.limits,
        &policy.grants,
        Arc::new(conn.clone()),
        named,
    )
    .map_err(|reason| Error::Initialize {
        path: path.clone(),
        reason,
    })?;
    let super::announce::Checked {
        name,
        version,
        description,
        handlers,
        schedules,
        watchers,
    } = super::announce::check(announcement.info, announcement.registration).map_err(|reason| {
        Error::BadRegistration {
            path: path.clone(),
            reason,
        }
    })?;
    if let Some(manifest) = &found {
        let mut problems = Vec::new();
        if manifest.name != name {
            problems.push(format!(
                "name '{}' does not match the component, which is plugin '{name}': fix the name \
                 or move the manifest beside the right component",
                manifest.name
            ));
        }
        if let Some(wanted) = manifest
            .version
            .as_ref()
            .filter(|wanted| **wanted != version)
        {
            problems.push(format!(
                "version '{wanted}' does not match the component's '{version}': update the \
                 manifest or install the version it names"
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Manifest {
                path: manifest::manifest_path(&path),
                problems,
            });
        }
    }
    for note in &policy.notes {
        tracing::warn!(plugin = %name, "{note}");
    }
    Ok(LoadedPlugin {
        manifest: found.map(|_| manifest::manifest_path(&path)),
        path,
        sha256,
        size: bytes.len() as u64,
        name,
        version,
        description,
        handlers,
        schedules,
        watchers,
        policy,
        imports,
        pre: Arc::new(pre),
    })
}

/// The names of a component's imports.
pub(crate) fn import_names(runtime: &Runtime, component: &Component) -> Vec<String> {
    component
        .component_type()
        .imports(runtime.engine())
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Check imports and exports by name, so a mismatch is reported in terms of the WIT contract
/// and names the import or export that does not fit.
pub(crate) fn check_world(runtime: &Runtime, component: &Component) -> Result<(), String> {
    let ty = component.component_type();
    let engine = runtime.engine();
    let refused: Vec<String> = ty
        .imports(engine)
        .filter_map(|(name, _)| runtime::refuse_import(name))
        .collect();
    if !refused.is_empty() {
        return Err(refused.join("; "));
    }
    for export in ["metadata", "initialize", "execute-job"] {
        if ty.get_export(engine, export).is_none() {
            return Err(format!(
                "it does not export '{export}': it is not a {} component",
                runtime::WORLD
            ));
        }
    }
    Ok(())
}
