//! `qntx plugin`: build, list and inspect plugins.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::plugins::listing::{Listed, State};
use crate::plugins::{self, Inspection};
use crate::runtime::{Runtime, mib};
use crate::storage::{Pool, Store};
use crate::{node, toolchain};

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
    ///
    /// Runs no plugin code: each file is described by what a node on this data directory
    /// recorded when it last loaded that very file (same sha256, same manifest). A file no node
    /// has loaded yet, or that changed since, is listed as never loaded; 'qntx run' or 'qntx
    /// plugin inspect FILE' loads it. Exits 1 when no plugin is listed as loaded.
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
    ///
    /// What the plugin announces comes from what a node recorded when it last loaded this
    /// very file. A file no node has loaded is loaded here: its initialize runs once, in a
    /// sandbox with the node's limits (30 s at most by default), and the output says so.
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
    global.with_store(|records| run_on(global, records.store(), command))
}

/// `command` with `records`, the database of the data directory, where nodes record what they
/// loaded.
fn run_on(global: &Global, records: &dyn Store, command: PluginCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        PluginCommand::Build { paths, out: dir } => {
            let dir = match dir {
                Some(dir) => dir,
                None => global.plugin_dirs()?.remove(0),
            };
            for path in paths {
                let installed = build_and_install(
                    &path,
                    &dir,
                    &toolchain::BuildOptions::default(),
                    Some(records),
                )?;
                writeln!(out, "{}", installed.display())?;
            }
            Ok(Outcome::Ok)
        }
        PluginCommand::List { json } => {
            let listed = plugins::listing::list(records, &global.plugin_dirs()?)?;
            let mut loaded = 0;
            for entry in &listed {
                if matches!(entry.state, State::Loaded(_)) {
                    loaded += 1;
                }
                if json {
                    output::json_line(&mut out, &entry.to_json())?;
                } else {
                    print_listed(&mut out, entry)?;
                }
            }
            Ok(if loaded == 0 {
                Outcome::No
            } else {
                Outcome::Ok
            })
        }
        PluginCommand::Inspect { file, json } => {
            let runtime = checking_runtime(Some(global))?;
            let inspection = plugins::inspect(&runtime, &file, records, &scratch_store()?)
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

/// A loaded plugin on stdout with its handlers; anything else on stderr, saying why.
fn print_listed(out: &mut impl Write, entry: &Listed) -> std::io::Result<()> {
    let path = entry.path.display();
    match &entry.state {
        State::Loaded(record) => {
            writeln!(
                out,
                "{} {}  {}",
                record.name.as_deref().unwrap_or("?"),
                record.version.as_deref().unwrap_or("?"),
                record.description.as_deref().unwrap_or_default()
            )?;
            for (handler, description) in &record.handlers {
                let name = format!("{}/{handler}", record.name.as_deref().unwrap_or("?"));
                writeln!(out, "  {name:<24} {description}")?;
            }
        }
        State::Clash { record, others } => eprintln!(
            "qntx: plugin '{path}' is named '{}', like {}: a node refuses each of them",
            record.name.as_deref().unwrap_or("?"),
            plugins::listing::quoted(others)
        ),
        State::Refused(record) => eprintln!(
            "qntx: {} (at the node's load of {})",
            record.refusal.as_deref().unwrap_or_default(),
            output::time(record.loaded_at)
        ),
        State::NeverLoaded => eprintln!(
            "qntx: plugin '{path}' was never loaded by a node on this data directory (or \
             changed since); 'qntx run' or 'qntx plugin inspect {path}' loads it"
        ),
        State::Unreadable(reason) => eprintln!("qntx: {reason}"),
    }
    Ok(())
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
    match inspection.recorded_at {
        Some(at) => writeln!(
            out,
            "announced    as recorded at a node's load of this file, {}",
            output::time(at)
        )?,
        None => writeln!(
            out,
            "announced    no node had loaded this file: its initialize ran once now"
        )?,
    }
    match &inspection.refusal {
        None => writeln!(out, "verdict      this node would load it"),
        Some(reason) => writeln!(out, "verdict      this node would refuse it: {reason}"),
    }
}

/// Build the crate at `path`, check the component by loading it, and copy it to
/// `dir/<plugin-name>.wasm`; record what the check found in `records`. Returns the installed
/// file.
pub(super) fn build_and_install(
    path: &Path,
    dir: &Path,
    options: &toolchain::BuildOptions,
    records: Option<&dyn Store>,
) -> anyhow::Result<PathBuf> {
    let built = toolchain::build_crate(path, options)
        .with_context(|| format!("building plugin '{}'", path.display()))?;
    let plugin = plugins::load(&checking_runtime(None)?, &built.wasm, &scratch_store()?)
        .with_context(|| format!("checking the component built from '{}'", path.display()))?;
    if let Some(records) = records {
        // Installed without a manifest: what `qntx plugin list` shows until a node loads it.
        let file = plugins::PluginFile::without_manifest(&built.wasm)
            .with_context(|| format!("reading '{}'", built.wasm.display()))?;
        let mut record = plugins::record::loaded(&plugin, crate::clock::now_ms());
        record.path = dir.join(format!("{}.wasm", plugin.name));
        records
            .plugin_load_save(&file.key, &record)
            .context("recording the plugin")?;
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating plugin directory '{}'", dir.display()))?;
    let installed = dir.join(format!("{}.wasm", plugin.name));
    std::fs::copy(&built.wasm, &installed)
        .with_context(|| format!("copying the component to '{}'", installed.display()))?;
    tracing::info!(plugin = %plugin.name, version = %plugin.version, path = %installed.display(), "installed plugin");
    Ok(installed)
}

/// A runtime for checking components ([`plugins::checking_runtime`]). Given the command's
/// settings, it shares the node's compile cache.
pub(super) fn checking_runtime(global: Option<&Global>) -> anyhow::Result<Arc<Runtime>> {
    let cache_dir = global
        .map(|global| global.data_dir().map(|dir| node::cache_dir(&dir)))
        .transpose()?;
    Ok(plugins::checking_runtime(cache_dir)?)
}

/// An empty store for `initialize` calls made only to check a plugin.
pub(super) fn scratch_store() -> anyhow::Result<Pool> {
    Ok(plugins::scratch_store()?)
}
