//! The toolchains directory, and installing the Python and JavaScript component toolchains into
//! it on first use.
//!
//! `QNTX_TOOLCHAINS` (or `--toolchains`) names the directory; the default is
//! `$XDG_CACHE_HOME/qntx/toolchains` or `~/.cache/qntx/toolchains`. It holds:
//!
//! | path | what |
//! |---|---|
//! | `sdk/` | the WIT contract and the Rust guest SDK, written from the `qntx` binary |
//! | `rust/` | generated handler crates and their shared cargo target directory |
//! | `python/` | a virtual environment with componentize-py [`COMPONENTIZE_PY`] |
//! | `js/` | an npm prefix with componentize-js [`COMPONENTIZE_JS`] |
//! | `builds/` | scratch directories of builds in progress |

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Error, run};

/// The componentize-py release handlers are built with (pinned: its output is tied to the
/// wasmtime and WIT versions this node implements).
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
/// The componentize-js release handlers are built with (pinned, as above).
pub const COMPONENTIZE_JS: &str = "@bytecodealliance/componentize-js@0.23.0";

/// The toolchains directory: `explicit`, else the user's cache directory.
///
/// # Errors
///
/// [`Error::Missing`] when no directory is given and there is no home directory.
pub fn toolchains_dir(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(dir) = explicit {
        return Ok(dir.to_owned());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::home_dir().map(|home| home.join(".cache")))
        .ok_or_else(|| Error::Missing {
            tool: "a home directory".into(),
            install: "set QNTX_TOOLCHAINS to a directory for compilers and build caches".into(),
        })?;
    Ok(cache.join("qntx").join("toolchains"))
}

/// An exclusive lock on `dir/<name>.lock`, held until dropped: one process installs at a time.
pub(crate) fn lock(dir: &Path, name: &str) -> Result<File, Error> {
    let path = dir.join(format!("{name}.lock"));
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = File::create(&path).map_err(io)?;
    file.lock().map_err(io)?;
    Ok(file)
}

/// `componentize-py` in `dir/python`, installing it (a venv, then pip) when missing.
///
/// # Errors
///
/// [`Error::Missing`] when `python3` (with `venv`) is not installed, [`Error::Install`] when pip
/// fails.
pub fn componentize_py(dir: &Path) -> Result<PathBuf, Error> {
    let venv = dir.join("python");
    let tool = venv.join("bin").join("componentize-py");
    let _lock = lock(dir, "python")?;
    if tool.is_file() {
        return Ok(tool);
    }
    let install = "install Python 3.10 or newer with venv and pip (Debian: apt-get install \
                   python3 python3-venv python3-pip), then run the command again";
    tracing::info!(venv = %venv.display(), "installing {COMPONENTIZE_PY} for Python handlers");
    let created = run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).map_err(|_| {
        Error::Missing {
            tool: "python3".into(),
            install: install.into(),
        }
    })?;
    if !created.status.success() {
        return Err(Error::Install {
            what: format!("a Python venv in '{}' ({install})", venv.display()),
            output: String::from_utf8_lossy(&created.stderr).trim().to_owned(),
        });
    }
    let pip = run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--disable-pip-version-check",
        "--quiet",
        COMPONENTIZE_PY,
    ]))?;
    if !pip.status.success() || !tool.is_file() {
        // A half-made venv would pass the check above next time.
        let _removed = std::fs::remove_dir_all(&venv);
        return Err(Error::Install {
            what: COMPONENTIZE_PY.into(),
            output: String::from_utf8_lossy(&pip.stderr).trim().to_owned(),
        });
    }
    Ok(tool)
}

/// `componentize-js` in `dir/js`, installing it with npm when missing.
///
/// # Errors
///
/// [`Error::Missing`] when `node` or `npm` is not installed, [`Error::Install`] when npm fails.
pub fn componentize_js(dir: &Path) -> Result<PathBuf, Error> {
    let prefix = dir.join("js");
    let tool = prefix
        .join("node_modules")
        .join(".bin")
        .join("componentize-js");
    let install = "install Node.js 18 or newer with npm (Debian: apt-get install nodejs npm; or \
                   https://nodejs.org), then run the command again";
    let missing = |tool: &str| Error::Missing {
        tool: tool.into(),
        install: install.into(),
    };
    let node = run(Command::new("node").arg("--version")).map_err(|_| missing("node"))?;
    if !node.status.success() {
        return Err(missing("node"));
    }
    let _lock = lock(dir, "js")?;
    if tool.is_file() {
        return Ok(tool);
    }
    tracing::info!(prefix = %prefix.display(), "installing {COMPONENTIZE_JS} for JavaScript handlers");
    std::fs::create_dir_all(&prefix).map_err(|source| Error::Io {
        path: prefix.clone(),
        source,
    })?;
    let npm = run(Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&prefix)
        .args([
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            COMPONENTIZE_JS,
        ]))
    .map_err(|_| missing("npm"))?;
    if !npm.status.success() || !tool.is_file() {
        return Err(Error::Install {
            what: COMPONENTIZE_JS.into(),
            output: String::from_utf8_lossy(&npm.stderr).trim().to_owned(),
        });
    }
    Ok(tool)
}
