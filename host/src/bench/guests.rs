//! The benchmark's guests, compiled from source: `tests/guests/noop`, and copies of it under
//! other names (`noop-0`, `noop-1`, ...) so that a node can load several distinct plugins.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::toolchain::{BuildOptions, build_crate};

/// The built components.
#[derive(Debug, Clone)]
pub struct Guests {
    /// The `noop` plugin (handlers `noop/noop` and `noop/sleep`).
    pub noop: PathBuf,
    /// Distinct plugins `noop-0` .. `noop-N`.
    pub copies: Vec<PathBuf>,
}

/// Build `noop` and `copies` renamed copies of it under `target_dir` (reused between runs).
///
/// # Errors
///
/// When a crate cannot be written or does not build.
pub fn build(root: &Path, target_dir: &Path, copies: usize) -> anyhow::Result<Guests> {
    let options = BuildOptions {
        target_dir: Some(target_dir.join("wasm")),
    };
    let source = root.join("tests/guests/noop");
    let noop = build_crate(&source, &options)
        .map_err(|e| anyhow::anyhow!("{}", crate::error_chain(&e)))
        .context("building tests/guests/noop")?
        .wasm;
    // Each copy is a workspace of its own, pinned by this checkout's lock file so that building
    // it needs no registry. No file is shared between copies, and each is written whole, so runs
    // side by side (tests) never see another's half-written crate.
    let lib = std::fs::read_to_string(source.join("src/lib.rs"))?;
    let sdk = root.join("guest-sdk");
    let mut built = Vec::with_capacity(copies);
    for i in 0..copies {
        let dir = target_dir.join("noop-copies").join(format!("noop-{i}"));
        std::fs::create_dir_all(dir.join("src"))?;
        write_if_missing(&dir.join("Cargo.lock"), &root.join("Cargo.lock"))
            .context("copying Cargo.lock")?;
        write_if_changed(&dir.join("src/lib.rs"), &lib)?;
        write_if_changed(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"qntx-guest-noop-{i}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 publish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
                 qntx-guest = {{ path = {:?} }}\n\n[workspace]\n",
                sdk.display().to_string()
            ),
        )?;
        let wasm = build_crate(&dir, &options)
            .map_err(|e| anyhow::anyhow!("{}", crate::error_chain(&e)))
            .with_context(|| format!("building the copy noop-{i}"))?
            .wasm;
        built.push(wasm);
    }
    Ok(Guests {
        noop,
        copies: built,
    })
}

/// A directory holding copies of `files` (a node's plugin directory).
///
/// # Errors
///
/// When a file cannot be copied.
pub fn plugin_dir(dir: &Path, files: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins)?;
    for file in files {
        let name = file.file_name().context("a component has a file name")?;
        std::fs::copy(file, plugins.join(name))
            .with_context(|| format!("copying '{}'", file.display()))?;
    }
    Ok(plugins)
}

/// Write `text` unless the file already holds it, so that cargo sees no change. The file is
/// replaced whole, never seen half written by a build running beside this one.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let mut file = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
    file.write_all(text.as_bytes())?;
    file.persist(path)?;
    Ok(())
}

/// Copy `from` to `path` unless `path` exists: cargo may rewrite it, and its version stands.
fn write_if_missing(path: &Path, from: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut file = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
    file.write_all(&std::fs::read(from)?)?;
    match file.persist_noclobber(path) {
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop).map_err(|e| e.error),
    }
}
