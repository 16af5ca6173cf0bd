//! Building a Rust crate into a component with cargo.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::{Error, WASM_TARGET};

/// Where and how to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Cargo's target directory; `None` means cargo's own choice (`CARGO_TARGET_DIR` or the
    /// workspace's `target/`).
    pub target_dir: Option<PathBuf>,
}

/// A built component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The crate's package name.
    pub package: String,
    /// The component file in cargo's target directory.
    pub wasm: PathBuf,
}

/// Install the `wasm32-wasip2` target with rustup unless the toolchain already has it.
///
/// # Errors
///
/// [`Error::Spawn`] when rustc or rustup cannot run, [`Error::Target`] when rustup fails.
pub fn ensure_wasm_target(dir: &Path) -> Result<(), Error> {
    let libdir = run(Command::new("rustc")
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .current_dir(dir))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&libdir.stdout).trim());
    if libdir.is_dir() {
        return Ok(());
    }
    tracing::info!("installing the {WASM_TARGET} target with rustup");
    let added = run(Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .current_dir(dir))?;
    if !added.status.success() {
        return Err(Error::Target {
            output: String::from_utf8_lossy(&added.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// Build the crate at `path` (a directory with a `Cargo.toml`, or the manifest itself) for
/// `wasm32-wasip2`. The crate must be a `cdylib`.
///
/// # Errors
///
/// [`Error::NotACrate`] for a path that is not a cdylib crate, [`Error::Compile`] with the
/// compiler's messages (`file:line:col: error: ...`) when it does not compile.
pub fn build_crate(path: &Path, options: &BuildOptions) -> Result<Built, Error> {
    let manifest = if path.is_dir() {
        path.join("Cargo.toml")
    } else {
        path.to_owned()
    };
    let not_a_crate = |reason: String| Error::NotACrate {
        path: path.to_owned(),
        reason,
    };
    let manifest = std::fs::canonicalize(&manifest)
        .map_err(|e| not_a_crate(format!("'{}': {e}", manifest.display())))?;
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| not_a_crate(format!("reading '{}': {e}", manifest.display())))?;
    let parsed: toml::Table = text
        .parse()
        .map_err(|e| not_a_crate(format!("'{}' is not valid TOML: {e}", manifest.display())))?;
    let package = parsed
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or_else(|| not_a_crate("its Cargo.toml has no [package] name".into()))?
        .to_owned();
    let is_cdylib = parsed
        .get("lib")
        .and_then(|lib| lib.get("crate-type"))
        .and_then(|types| types.as_array())
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("cdylib")));
    if !is_cdylib {
        return Err(not_a_crate(
            "add `[lib] crate-type = [\"cdylib\"]` to its Cargo.toml".into(),
        ));
    }
    let dir = manifest.parent().unwrap_or(Path::new("."));
    ensure_wasm_target(dir)?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--target", WASM_TARGET, "--release", "--lib"])
        .args(["--message-format", "json-diagnostic-short"])
        // Guests are small and fast to instantiate whatever the crate's profile says.
        .args([
            "--config",
            "profile.release.opt-level=\"s\"",
            "--config",
            "profile.release.lto=true",
            "--config",
            "profile.release.codegen-units=1",
            "--config",
            "profile.release.strip=\"debuginfo\"",
            // A 64 KiB shadow stack instead of 1 MiB: the instance then touches only its first
            // pages, which the pooling allocator keeps resident between jobs. Appended to the
            // crate's own target rustflags, if any.
            "--config",
            "target.wasm32-wasip2.rustflags=[\"-C\", \"link-arg=-zstack-size=65536\"]",
        ])
        // Settings of an enclosing cargo (when run from a test or build script) must not leak.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    if let Some(target_dir) = &options.target_dir {
        command.arg("--target-dir").arg(target_dir);
    }
    tracing::info!(package, manifest = %manifest.display(), "building component");
    let output = run(&mut command)?;

    let (mut diagnostics, wasm) = read_messages(&output.stdout, &package);
    if !output.status.success() {
        if diagnostics.is_empty() {
            diagnostics.push(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        return Err(Error::Compile {
            package,
            diagnostics: diagnostics.join("\n"),
        });
    }
    for warning in &diagnostics {
        tracing::warn!(package, "{warning}");
    }
    let wasm = wasm.ok_or_else(|| Error::NoArtifact {
        package: package.clone(),
    })?;
    Ok(Built { package, wasm })
}

/// From cargo's JSON messages: the compiler's diagnostics (errors, and warnings about the
/// crate itself), rendered `file:line:col: level: message`, and the crate's `.wasm` artifact.
fn read_messages(stdout: &[u8], package: &str) -> (Vec<String>, Option<PathBuf>) {
    let crate_name = package.replace('-', "_");
    let mut diagnostics = Vec::new();
    let mut wasm = None;
    for line in String::from_utf8_lossy(stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let ours = message["target"]["name"]
            .as_str()
            .map(|n| n.replace('-', "_"))
            == Some(crate_name.clone());
        match message["reason"].as_str() {
            Some("compiler-message") => {
                let level = message["message"]["level"].as_str().unwrap_or_default();
                let rendered = message["message"]["rendered"].as_str();
                if let Some(rendered) =
                    rendered.filter(|_| level == "error" || (level == "warning" && ours))
                {
                    diagnostics.push(rendered.trim_end().to_owned());
                }
            }
            Some("compiler-artifact") if ours => {
                wasm = message["filenames"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .find(|file| file.ends_with(".wasm"))
                    .map(PathBuf::from);
            }
            _ => {}
        }
    }
    (diagnostics, wasm)
}

/// Run a program to completion, capturing its output.
pub(crate) fn run(command: &mut Command) -> Result<Output, Error> {
    command.output().map_err(|source| Error::Spawn {
        program: command.get_program().to_string_lossy().into_owned(),
        source,
    })
}
