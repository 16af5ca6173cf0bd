//! `qntx plugin`: build and list plugins.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::plugins::{self, LoadedPlugin};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::{db, toolchain};

#[derive(Debug, Subcommand)]
pub(super) enum PluginCommand {
    /// Compile plugin crates to components, check them, and install them
    ///
    /// Each PATH is a cdylib crate written against qntx-guest. It is built for wasm32-wasip2
    /// (the target is installed with rustup if missing), loaded and initialized in a sandbox to
    /// check it, and copied to OUT as <plugin-name>.wasm.
    Build {
        /// Plugin crate directories
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// Where to put the components [default: the first plugin directory]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// List the plugins in the plugin directories, with versions and handlers
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(global: &Global, command: PluginCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        PluginCommand::Build { paths, out: dir } => {
            let dir = match dir {
                Some(dir) => dir,
                None => global.plugin_dirs()?.remove(0),
            };
            for path in paths {
                let installed =
                    build_and_install(&path, &dir, &toolchain::BuildOptions::default())?;
                writeln!(out, "{}", installed.display())?;
            }
            Ok(Outcome::Ok)
        }
        PluginCommand::List { json } => {
            let files = plugins::discover(&global.plugin_dirs()?)?;
            let catalog = plugins::load_all(&checking_runtime()?, &files, &scratch_store()?);
            for plugin in &catalog.plugins {
                if json {
                    output::json_line(&mut out, &describe(plugin))?;
                } else {
                    writeln!(
                        out,
                        "{} {}  {}",
                        plugin.name, plugin.version, plugin.description
                    )?;
                    for (name, description) in &plugin.handlers {
                        writeln!(out, "  {:<24} {description}", plugin.handler_name(name))?;
                    }
                }
            }
            for refused in &catalog.refused {
                eprintln!("qntx: {}", crate::error_chain(refused));
            }
            Ok(if catalog.plugins.is_empty() {
                Outcome::No
            } else {
                Outcome::Ok
            })
        }
    }
}

/// Build the crate at `path`, check the component by loading it, and copy it to
/// `dir/<plugin-name>.wasm`. Returns the installed file.
pub(super) fn build_and_install(
    path: &Path,
    dir: &Path,
    options: &toolchain::BuildOptions,
) -> anyhow::Result<PathBuf> {
    let built = toolchain::build_crate(path, options)
        .with_context(|| format!("building plugin '{}'", path.display()))?;
    let plugin = plugins::load(&checking_runtime()?, &built.wasm, &scratch_store()?)
        .with_context(|| format!("checking the component built from '{}'", path.display()))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating plugin directory '{}'", dir.display()))?;
    let installed = dir.join(format!("{}.wasm", plugin.name));
    std::fs::copy(&built.wasm, &installed)
        .with_context(|| format!("copying the component to '{}'", installed.display()))?;
    tracing::info!(plugin = %plugin.name, version = %plugin.version, path = %installed.display(), "installed plugin");
    Ok(installed)
}

/// A runtime for checking components, without the pooling allocator's reservations.
pub(super) fn checking_runtime() -> anyhow::Result<Arc<Runtime>> {
    Ok(Arc::new(Runtime::new(RuntimeConfig {
        pooling: false,
        ..RuntimeConfig::default()
    })?))
}

/// An empty store for `initialize` calls made only to check a plugin.
pub(super) fn scratch_store() -> anyhow::Result<Arc<Mutex<rusqlite::Connection>>> {
    Ok(Arc::new(Mutex::new(db::open_in_memory()?)))
}

fn describe(plugin: &LoadedPlugin) -> serde_json::Value {
    serde_json::json!({
        "name": plugin.name,
        "version": plugin.version,
        "description": plugin.description,
        "path": plugin.path,
        "sha256": plugin.sha256,
        "size": plugin.size,
        "handlers": plugin.handlers.iter().map(|(name, description)| serde_json::json!({
            "name": plugin.handler_name(name),
            "description": description,
        })).collect::<Vec<_>>(),
    })
}
