//! The benchmark's guests, compiled from source: `tests/guests/noop`, and copies of it under
//! other names (`noop-0`, `noop-1`, ...) so that a node can load several distinct plugins.

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
    // The copies form a workspace of their own beside the build, pinned by this checkout's lock
    // file so that building them needs no registry.
    let workspace = target_dir.join("noop-copies");
    std::fs::create_dir_all(&workspace)?;
    let members: Vec<String> = (0..copies).map(|i| format!("\"noop-{i}\"")).collect();
    write_if_changed(
        &workspace.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )?;
    if !workspace.join("Cargo.lock").exists() {
        std::fs::copy(root.join("Cargo.lock"), workspace.join("Cargo.lock"))
            .context("copying Cargo.lock")?;
    }
    let lib = std::fs::read_to_string(source.join("src/lib.rs"))?;
    let sdk = root.join("guest-sdk");
    for i in 0..copies {
        let dir = workspace.join(format!("noop-{i}"));
        std::fs::create_dir_all(dir.join("src"))?;
        write_if_changed(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"qntx-guest-noop-{i}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 publish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
                 qntx-guest = {{ path = {:?} }}\n",
                sdk.display().to_string()
            ),
        )?;
        write_if_changed(&dir.join("src/lib.rs"), &lib)?;
    }
    let mut built = Vec::with_capacity(copies);
    for i in 0..copies {
        let dir = workspace.join(format!("noop-{i}"));
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

/// Write `text` unless the file already holds it, so that cargo sees no change.
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}
