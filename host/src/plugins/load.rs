//! Loading plugin files: read → check → manifest → compile (or load from the compile cache) →
//! check imports → link → initialize → register.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::manifest::{self, Manifest, NodeDir, Policy};
use super::{Error, check_handler_name, check_plugin_name};
use crate::pulse::triggers::{ScheduleSpec, WatcherFilter, WatcherSpec};
use crate::pulse::{Registered, Registry, SharedConnection};
use crate::runtime::{self, Identity, JobCtx, PluginHandler, PluginPre, Runtime, types};

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
    pub(crate) fn pre(&self) -> &PluginPre<JobCtx> {
        &self.pre
    }

    /// Register every announced handler with Pulse, replacing this plugin's earlier ones.
    pub fn register(&self, runtime: &Arc<Runtime>, registry: &Registry) {
        registry.unregister_plugin(&self.name);
        let handler = Arc::new(PluginHandler::new(
            runtime.clone(),
            self.pre.clone(),
            Identity {
                name: self.name.clone(),
                version: self.version.clone(),
            },
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

/// The outcome of loading a set of plugin files.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Plugins that loaded, in file order.
    pub plugins: Vec<LoadedPlugin>,
    /// Files refused, with the reason.
    pub refused: Vec<Error>,
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

/// Load every file; a refused file does not stop the others. Names must be unique: the first
/// file with a name wins.
pub fn load_all(runtime: &Arc<Runtime>, files: &[PathBuf], conn: &SharedConnection) -> Catalog {
    let mut catalog = Catalog::default();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in files {
        match load(runtime, path, conn) {
            Ok(plugin) => {
                if let Some(other) = seen.get(&plugin.name) {
                    catalog.refused.push(Error::Duplicate {
                        path: path.clone(),
                        name: plugin.name,
                        other: other.clone(),
                    });
                    continue;
                }
                seen.insert(plugin.name.clone(), path.clone());
                tracing::info!(plugin = %plugin.name, version = %plugin.version, handlers = plugin.handlers.len(), path = %path.display(), "loaded plugin");
                catalog.plugins.push(plugin);
            }
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "refused plugin");
                catalog.refused.push(error);
            }
        }
    }
    catalog
}

/// Load one plugin file: check it is a component of our world, compile it, call `metadata`
/// and `initialize`, and check what it announces.
///
/// # Errors
///
/// [`Error`] with a reason specific to what is wrong with the file.
pub fn load(
    runtime: &Arc<Runtime>,
    path: &Path,
    conn: &SharedConnection,
) -> Result<LoadedPlugin, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let manifest = manifest::read_beside(path)?;
    load_component(runtime, path, &bytes, manifest, conn)
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
    conn: &SharedConnection,
) -> Result<LoadedPlugin, Error> {
    load_component(runtime, path, bytes, None, conn)
}

/// The node's own directories, which no writable grant may reach: the database's directory,
/// the compile cache, and the directory the plugin was loaded from.
fn node_dirs(runtime: &Runtime, plugin_dir: &Path, conn: &SharedConnection) -> Vec<NodeDir> {
    let database = crate::pulse::lock(conn)
        .path()
        .filter(|path| !path.is_empty())
        .map(PathBuf::from);
    [
        database
            .as_deref()
            .and_then(Path::parent)
            .and_then(|dir| NodeDir::at("data directory", dir, false)),
        runtime
            .config()
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
    conn: &SharedConnection,
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
        &policy.grants.config,
        conn.clone(),
    )
    .map_err(|reason| Error::Initialize {
        path: path.clone(),
        reason,
    })?;
    let bad = |reason: String| Error::BadRegistration {
        path: path.clone(),
        reason,
    };
    let types::PluginInfo {
        name,
        version,
        description,
    } = announcement.info;
    check_plugin_name(&name).map_err(bad)?;
    if version.trim().is_empty() {
        return Err(bad(format!("plugin '{name}' has an empty version")));
    }
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
    let mut handlers = Vec::new();
    for spec in announcement.registration.handlers {
        check_handler_name(&spec.name).map_err(bad)?;
        if handlers.iter().any(|(existing, _)| existing == &spec.name) {
            return Err(bad(format!(
                "plugin '{name}' announces handler '{}' twice",
                spec.name
            )));
        }
        handlers.push((spec.name, spec.description));
    }
    let own = |handler: &str| -> Result<String, Error> {
        if handlers.iter().any(|(name, _)| name == handler) {
            Ok(format!("{name}/{handler}"))
        } else {
            Err(bad(format!(
                "plugin '{name}' announces a schedule or watcher for handler '{handler}', which it does not announce"
            )))
        }
    };
    let mut schedules = Vec::new();
    for spec in announcement.registration.schedules {
        let handler = own(&spec.handler)?;
        let payload = match spec.payload.as_str() {
            "" => serde_json::Value::Null,
            text => serde_json::from_str(text).map_err(|e| {
                bad(format!(
                    "the payload of the schedule for '{handler}' is not JSON: {e}"
                ))
            })?,
        };
        if spec.interval_seconds == 0 {
            return Err(bad(format!(
                "the schedule for '{handler}' has an interval of 0 seconds"
            )));
        }
        schedules.push(ScheduleSpec {
            handler,
            interval_ms: i64::try_from(spec.interval_seconds.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            enabled: spec.enabled,
            payload,
        });
    }
    let mut watchers = Vec::new();
    for spec in announcement.registration.watchers {
        let handler = own(&spec.handler)?;
        if !(spec.max_fires_per_second.is_finite() && spec.max_fires_per_second > 0.0) {
            return Err(bad(format!(
                "the watcher for '{handler}' must allow a positive number of fires per second"
            )));
        }
        watchers.push(WatcherSpec {
            handler,
            filter: WatcherFilter {
                subjects: spec.filter.subjects,
                predicates: spec.filter.predicates,
                contexts: spec.filter.contexts,
                actors: spec.filter.actors,
            },
            max_fires_per_second: spec.max_fires_per_second,
            include_own_writes: spec.include_own_writes,
        });
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
