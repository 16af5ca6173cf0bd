//! `qntx plugin`: build, list and inspect plugins.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::plugins::{self, Inspection, LoadedPlugin};
use crate::runtime::{Runtime, RuntimeConfig, mib};
use crate::{db, node, toolchain};

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
    /// Show what a component is, what it asks for, and whether this node would load it
    ///
    /// Prints name, version, WIT world, imports (and whether this node links them), exports,
    /// size, sha256, the grants and limits its manifest (FILE with .toml) asks for, and the
    /// reason this node would refuse it, if it would. Exits 1 when it would be refused.
    Inspect {
        /// The component file
        #[arg(value_name = "FILE.wasm")]
        file: PathBuf,
        /// Print one JSON object
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
            let runtime = checking_runtime(Some(global))?;
            let catalog = plugins::load_all(&runtime, &files, &scratch_store()?);
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
        PluginCommand::Inspect { file, json } => {
            let runtime = checking_runtime(Some(global))?;
            let inspection = plugins::inspect(&runtime, &file, &scratch_store()?)
                .with_context(|| format!("reading '{}'", file.display()))?;
            if json {
                output::json_line(&mut out, &inspection)?;
            } else {
                print_inspection(&mut out, &inspection)?;
            }
            Ok(if inspection.loads {
                Outcome::Ok
            } else {
                Outcome::No
            })
        }
    }
}

fn print_inspection(out: &mut impl Write, inspection: &Inspection) -> std::io::Result<()> {
    let unknown = || "?".to_owned();
    writeln!(out, "file         {}", inspection.path.display())?;
    writeln!(
        out,
        "plugin       {} {}",
        inspection.name.clone().unwrap_or_else(unknown),
        inspection.version.clone().unwrap_or_else(unknown)
    )?;
    if let Some(description) = &inspection.description {
        writeln!(out, "description  {description}")?;
    }
    writeln!(out, "world        {}", inspection.world)?;
    writeln!(out, "size         {} bytes", inspection.size)?;
    writeln!(out, "sha256       {}", inspection.sha256)?;
    writeln!(out, "imports")?;
    for import in &inspection.imports {
        writeln!(out, "  {:<40} {}", import.name, import.status)?;
    }
    writeln!(out, "exports      {}", inspection.exports.join(", "))?;
    if !inspection.handlers.is_empty() {
        writeln!(out, "handlers     {}", inspection.handlers.join(", "))?;
    }
    match (&inspection.manifest, &inspection.requested) {
        (None, _) => writeln!(out, "manifest     none: no grants, the node's limits")?,
        (Some(path), None) => writeln!(out, "manifest     {} (not valid)", path.display())?,
        (Some(path), Some(manifest)) => {
            writeln!(out, "manifest     {}", path.display())?;
            for dir in &manifest.grants.dirs {
                let mode = match dir.mode {
                    plugins::manifest::DirMode::ReadOnly => "read-only",
                    plugins::manifest::DirMode::ReadWrite => "read-write",
                };
                writeln!(
                    out,
                    "  directory  {} as {} ({mode})",
                    dir.host.display(),
                    dir.guest
                )?;
            }
            for name in &manifest.grants.env {
                writeln!(out, "  env        {name}")?;
            }
            for key in manifest.config.keys() {
                writeln!(out, "  config     {key}")?;
            }
            let limits = &manifest.limits;
            if let Some(memory) = limits
                .memory
                .as_ref()
                .and_then(plugins::manifest::Size::bytes)
            {
                writeln!(out, "  memory     {}", mib(memory))?;
            }
            if let Some(timeout) = &limits.timeout {
                writeln!(out, "  timeout    {timeout}")?;
            }
            if let Some(fuel) = limits.fuel {
                writeln!(out, "  fuel       {fuel}")?;
            }
            if let Some(concurrency) = limits.concurrency {
                writeln!(out, "  concurrency {concurrency}")?;
            }
        }
    }
    for note in &inspection.notes {
        writeln!(out, "note         {note}")?;
    }
    match &inspection.refusal {
        None => writeln!(out, "verdict      this node would load it"),
        Some(reason) => writeln!(out, "verdict      this node would refuse it: {reason}"),
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
    let plugin = plugins::load(&checking_runtime(None)?, &built.wasm, &scratch_store()?)
        .with_context(|| format!("checking the component built from '{}'", path.display()))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating plugin directory '{}'", dir.display()))?;
    let installed = dir.join(format!("{}.wasm", plugin.name));
    std::fs::copy(&built.wasm, &installed)
        .with_context(|| format!("copying the component to '{}'", installed.display()))?;
    tracing::info!(plugin = %plugin.name, version = %plugin.version, path = %installed.display(), "installed plugin");
    Ok(installed)
}

/// A runtime for checking components, without the pooling allocator's reservations. Given
/// the command's settings, it shares the node's compile cache (entries are keyed by engine
/// settings, so a difference from the node's engine only means separate entries).
pub(super) fn checking_runtime(global: Option<&Global>) -> anyhow::Result<Arc<Runtime>> {
    let cache_dir = global
        .map(|global| global.data_dir().map(|dir| node::cache_dir(&dir)))
        .transpose()?;
    Ok(Arc::new(Runtime::new(RuntimeConfig {
        pooling: false,
        cache_dir,
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
