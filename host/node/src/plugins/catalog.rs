//! Loading a set of plugin files side by side, and serving each plugin as soon as it is
//! certain to be in the catalog: a slow `initialize` holds up only files that claim its name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Error;
use super::file::PluginFile;
use super::load::{LoadedPlugin, load_file_naming};
use super::record::{self, FileKey, Record};
use crate::runtime::Runtime;
use crate::storage::Pool;

/// The outcome of loading a set of plugin files.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Plugins that loaded, in file order.
    pub plugins: Vec<LoadedPlugin>,
    /// Files refused, with the reason.
    pub refused: Vec<Error>,
    /// What each readable file gave, to [`crate::storage::PluginLoads::plugin_load_save_all`]: files are described by it
    /// later without running them.
    pub records: Vec<(FileKey, Record)>,
}

/// How many plugin files [`load_all`] loads at once: a slow `initialize` holds up only its
/// own file.
pub const PARALLEL_LOADS: usize = 4;

/// Load every file, up to [`PARALLEL_LOADS`] at once; a refused file does not stop the others.
/// A plugin name claimed by more than one file refuses every one of them, whatever the file
/// order: which of them is the real plugin is for the operator to say, by removing the others.
pub fn load_all(runtime: &std::sync::Arc<Runtime>, files: &[PathBuf], conn: &Pool) -> Catalog {
    load_all_serving(runtime, files, conn, |_| {})
}

/// [`load_all`], calling `serve` for each plugin of the catalog as soon as it is certain to be
/// there: it has loaded, and every other file has finished or claimed another name (a file
/// with a manifest claims the manifest's name before it runs; one without, what its `metadata`
/// answers). `serve` runs on a loading thread, one call at a time, while other files may still
/// be loading.
pub fn load_all_serving(
    runtime: &std::sync::Arc<Runtime>,
    files: &[PathBuf],
    conn: &Pool,
    serve: impl Fn(&LoadedPlugin) + Sync,
) -> Catalog {
    let claims = Mutex::new(Claims::new(files.len()));
    let lock = || claims.lock().unwrap_or_else(|e| e.into_inner());
    let one = |index: usize| match PluginFile::read(&files[index]) {
        Ok(file) => {
            let named = |name: &str| lock().named(index, name, &serve);
            let loaded = load_file_naming(runtime, &file, conn, &named);
            // The bytes are not needed past loading.
            let file = PluginFile {
                bytes: Vec::new(),
                ..file
            };
            lock().finish(index, Some(file), loaded, &serve);
        }
        Err(error) => lock().finish(index, None, Err(error), &serve),
    };
    let threads = PARALLEL_LOADS.min(files.len());
    if threads <= 1 {
        (0..files.len()).for_each(one);
    } else {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= files.len() {
                            return;
                        }
                        one(index);
                    }
                });
            }
        });
    }
    let results = claims
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .done();
    catalog(results)
}

/// The catalog of every file's result, in file order: files that load under the same name
/// are refused.
fn catalog(results: Vec<(Option<PluginFile>, Result<LoadedPlugin, Error>)>) -> Catalog {
    let mut claims: HashMap<&str, Vec<&Path>> = HashMap::new();
    for (_, result) in &results {
        if let Ok(plugin) = result {
            claims
                .entry(plugin.name.as_str())
                .or_default()
                .push(&plugin.path);
        }
    }
    let claimed: HashMap<String, Vec<PathBuf>> = claims
        .into_iter()
        .filter(|(_, paths)| paths.len() > 1)
        .map(|(name, paths)| {
            (
                name.to_owned(),
                paths.into_iter().map(Path::to_owned).collect(),
            )
        })
        .collect();
    let now = crate::clock::now_ms();
    let mut catalog = Catalog::default();
    for (file, result) in results {
        match result {
            Ok(plugin) => {
                // The file itself loads: its record says so, and a name clash is reported
                // from the records of the files that clash.
                if let Some(file) = &file {
                    catalog
                        .records
                        .push((file.key.clone(), record::loaded(&plugin, now)));
                }
                if let Some(paths) = claimed.get(&plugin.name) {
                    let error = Error::Duplicate {
                        name: plugin.name.clone(),
                        path: plugin.path.clone(),
                        others: paths
                            .iter()
                            .filter(|p| **p != plugin.path)
                            .cloned()
                            .collect(),
                    };
                    tracing::warn!(error = %crate::error_chain(&error), "refused plugin");
                    catalog.refused.push(error);
                    continue;
                }
                catalog.plugins.push(plugin);
            }
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "refused plugin");
                if let Some(file) = &file {
                    catalog
                        .records
                        .push((file.key.clone(), record::refused(file, &error, now)));
                }
                catalog.refused.push(error);
            }
        }
    }
    catalog
}

/// Which name each file claims while the files load, to know when a loaded plugin can no
/// longer be refused for a clash.
struct Claims {
    files: Vec<Claim>,
    /// Per name, the files that claim it and may still load under it.
    claimants: HashMap<String, usize>,
    /// Files that have neither claimed a name nor finished: any name may still be theirs.
    unnamed: usize,
}

enum Claim {
    Unnamed,
    Named(String),
    Done(Box<Finished>),
}

/// A file that has finished loading, and whether its plugin is served yet.
struct Finished {
    file: Option<PluginFile>,
    result: Result<LoadedPlugin, Error>,
    served: bool,
}

impl Claims {
    fn new(files: usize) -> Self {
        Self {
            files: (0..files).map(|_| Claim::Unnamed).collect(),
            claimants: HashMap::new(),
            unnamed: files,
        }
    }

    /// File `index` can load only as `name`.
    fn named(&mut self, index: usize, name: &str, serve: &dyn Fn(&LoadedPlugin)) {
        if matches!(self.files[index], Claim::Unnamed) {
            self.unnamed -= 1;
            *self.claimants.entry(name.to_owned()).or_default() += 1;
            self.files[index] = Claim::Named(name.to_owned());
            self.release(serve);
        }
    }

    /// File `index` has finished loading.
    fn finish(
        &mut self,
        index: usize,
        file: Option<PluginFile>,
        result: Result<LoadedPlugin, Error>,
        serve: &dyn Fn(&LoadedPlugin),
    ) {
        let loaded = result.as_ref().ok().map(|plugin| plugin.name.clone());
        let claim = std::mem::replace(
            &mut self.files[index],
            Claim::Done(Box::new(Finished {
                file,
                result,
                served: false,
            })),
        );
        match claim {
            Claim::Unnamed => self.unnamed -= 1,
            Claim::Named(name) => self.unclaim(&name),
            Claim::Done(_) => unreachable!("each file finishes once"),
        }
        if let Some(name) = loaded {
            *self.claimants.entry(name).or_default() += 1;
        }
        self.release(serve);
    }

    fn unclaim(&mut self, name: &str) {
        if let Some(count) = self.claimants.get_mut(name) {
            *count -= 1;
        }
    }

    /// Serve every loaded plugin that no other file can still clash with.
    fn release(&mut self, serve: &dyn Fn(&LoadedPlugin)) {
        if self.unnamed > 0 {
            return;
        }
        for claim in &mut self.files {
            if let Claim::Done(finished) = claim
                && let Finished {
                    result: Ok(plugin),
                    served: served @ false,
                    ..
                } = &mut **finished
                && self.claimants.get(&plugin.name) == Some(&1)
            {
                tracing::info!(plugin = %plugin.name, version = %plugin.version, handlers = plugin.handlers.len(), path = %plugin.path.display(), "loaded plugin");
                serve(plugin);
                *served = true;
            }
        }
    }

    fn done(self) -> Vec<(Option<PluginFile>, Result<LoadedPlugin, Error>)> {
        self.files
            .into_iter()
            .map(|claim| match claim {
                Claim::Done(finished) => (finished.file, finished.result),
                Claim::Unnamed | Claim::Named(_) => unreachable!("every file finished"),
            })
            .collect()
    }
}
