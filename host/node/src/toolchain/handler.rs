//! Building a user handler — one source file — into a component: Rust through a generated crate
//! and cargo, Python through componentize-py, JavaScript through componentize-js; a `.wasm` file
//! is taken as it is.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::sdk::{self, write_if_changed};
use super::{BuildOptions, Error, install, run};

/// The language of a handler's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// One `.rs` file using `qntx_guest::export_handler!`.
    Rust,
    /// One `.py` file defining `handle(payload, job)`.
    Python,
    /// One `.js` file defining `handle(payload, job)`.
    Js,
    /// A ready component.
    Wasm,
}

impl Language {
    /// The language a file name implies: `.rs`, `.py`, `.js` or `.mjs`, `.wasm`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "rs" => Some(Self::Rust),
            "py" => Some(Self::Python),
            "js" | "mjs" => Some(Self::Js),
            "wasm" => Some(Self::Wasm),
            _ => None,
        }
    }

    /// Its name in handler attestations: `rust`, `python`, `js`, `wasm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rust => "rust",
            Self::Python => "python",
            Self::Js => "js",
            Self::Wasm => "wasm",
        }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct HandlerSource<'a> {
    /// The handler's name; the component announces it.
    pub name: &'a str,
    /// One line about what it does.
    pub description: &'a str,
    /// The source's language.
    pub language: Language,
    /// How to name the source in error messages (the file given, or `<code>`).
    pub label: &'a str,
    /// The source file's bytes (the component's, for [`Language::Wasm`]).
    pub code: &'a [u8],
}

/// Build `source` into component bytes, with the toolchains in `toolchains` (installed there
/// on first use).
///
/// # Errors
///
/// [`Error::HandlerCompile`] with the compiler's messages, naming `source.label` and a line;
/// [`Error::Missing`] or [`Error::Install`] when a toolchain is missing.
pub fn build_handler(toolchains: &Path, source: &HandlerSource<'_>) -> Result<Vec<u8>, Error> {
    if source.language == Language::Wasm {
        return Ok(source.code.to_vec());
    }
    let code = std::str::from_utf8(source.code).map_err(|error| Error::HandlerCompile {
        label: source.label.to_owned(),
        diagnostics: format!("{}: not UTF-8 text: {error}", source.label),
    })?;
    let dirs = sdk::write(&toolchains.join("sdk"))?;
    let hash = build_hash(source);
    match source.language {
        Language::Rust => rust(toolchains, &dirs, &hash, source, code),
        Language::Python => python(toolchains, &dirs, &hash, source, code),
        Language::Js => javascript(toolchains, &dirs, &hash, source, code),
        Language::Wasm => unreachable!("handled above"),
    }
}

/// Identifies a build's inputs: the same inputs give the same component.
fn build_hash(source: &HandlerSource<'_>) -> String {
    let mut hasher = Sha256::new();
    for part in [
        source.name.as_bytes(),
        source.description.as_bytes(),
        source.language.as_str().as_bytes(),
        sdk::WIT.as_bytes(),
        source.code,
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// A scratch directory for one build, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(toolchains: &Path, kind: &str, hash: &str) -> Result<Self, Error> {
        let dir = toolchains.join("builds").join(format!(
            "{kind}-{hash}-{}-{}",
            std::process::id(),
            ulid::Ulid::new()
        ));
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _removed = std::fs::remove_dir_all(&self.0);
    }
}

fn read_output(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// A crate of its own (`[workspace]`) whose `src/lib.rs` is the user's file, depending on the
/// embedded SDK; every handler crate shares one target directory, so the SDK and its
/// dependencies compile once.
fn rust(
    toolchains: &Path,
    dirs: &sdk::SdkDirs,
    hash: &str,
    source: &HandlerSource<'_>,
    code: &str,
) -> Result<Vec<u8>, Error> {
    let scratch = Scratch::new(toolchains, "rust", hash)?;
    let project = &scratch.0;
    let manifest = format!(
        "[package]\nname = \"qntx-handler-{hash}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
         qntx-guest = {{ path = {} }}\n\n[workspace]\n",
        toml::Value::String(dirs.guest_sdk.to_string_lossy().into_owned())
    );
    let mut env = toml::Table::new();
    env.insert("QNTX_HANDLER_NAME".into(), source.name.into());
    env.insert("QNTX_HANDLER_DESCRIPTION".into(), source.description.into());
    let mut config = toml::Table::new();
    config.insert("env".into(), toml::Value::Table(env));
    let mut lib = code.to_owned();
    if !code.contains("export_handler!") {
        lib.push_str("\nqntx_guest::export_handler!(handle);\n");
    }
    write_if_changed(&project.join("Cargo.toml"), &manifest)?;
    write_if_changed(&project.join("Cargo.lock"), sdk::CARGO_LOCK)?;
    write_if_changed(
        &project.join(".cargo").join("config.toml"),
        &toml::to_string(&config).expect("a TOML table serializes"),
    )?;
    write_if_changed(&project.join("src").join("lib.rs"), &lib)?;
    let options = BuildOptions {
        target_dir: Some(toolchains.join("rust").join("target")),
    };
    let built = super::build_crate(project, &options).map_err(|error| match error {
        Error::Compile { diagnostics, .. } => Error::HandlerCompile {
            label: source.label.to_owned(),
            diagnostics: diagnostics.replace("src/lib.rs:", &format!("{}:", source.label)),
        },
        other => other,
    })?;
    read_output(&built.wasm)
}

/// `app.py` adapts the world's exports to the user's `handle(payload, job)` in
/// `user_handler.py`.
fn python(
    toolchains: &Path,
    dirs: &sdk::SdkDirs,
    hash: &str,
    source: &HandlerSource<'_>,
    code: &str,
) -> Result<Vec<u8>, Error> {
    let tool = install::componentize_py(toolchains)?;
    let scratch = Scratch::new(toolchains, "python", hash)?;
    let dir = &scratch.0;
    let user = dir.join("user_handler.py");
    write_if_changed(&user, code)?;
    write_if_changed(&dir.join("app.py"), &python_app(source))?;
    let out = dir.join("handler.wasm");
    tracing::info!(
        handler = source.name,
        "building a Python handler with componentize-py"
    );
    let output = run(Command::new(&tool)
        .arg("-d")
        .arg(&dirs.wit)
        .args(["-w", "plugin", "componentize", "app", "-p"])
        .arg(dir)
        .arg("-o")
        .arg(&out)
        .current_dir(dir))?;
    if !output.status.success() {
        return Err(Error::HandlerCompile {
            label: source.label.to_owned(),
            diagnostics: tool_errors(&output, &user, source.label),
        });
    }
    read_output(&out)
}

fn python_app(source: &HandlerSource<'_>) -> String {
    let literal = |text: &str| serde_json::Value::String(text.to_owned()).to_string();
    format!(
        r#"import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import types

import user_handler

NAME = {name}
DESCRIPTION = {description}


class WitWorld(wit_world.WitWorld):
    def metadata(self):
        return types.PluginInfo(name=NAME, version="0.1.0", description=DESCRIPTION)

    def initialize(self, config):
        spec = types.HandlerSpec(name=NAME, description=DESCRIPTION)
        return types.Registration(handlers=[spec], schedules=[], watchers=[])

    def execute_job(self, job):
        try:
            result = user_handler.handle(json.loads(job.payload), job)
        except Err:
            raise
        except Exception as error:
            raise Err(types.JobError_Permanent(f"{{type(error).__name__}}: {{error}}"))
        return types.Outcome(result=json.dumps(result))
"#,
        name = literal(source.name),
        description = literal(source.description),
    )
}

/// The user's file, followed by exports that call its `handle(payload, job)`: one module,
/// so the user's line numbers stay as they are.
fn javascript(
    toolchains: &Path,
    dirs: &sdk::SdkDirs,
    hash: &str,
    source: &HandlerSource<'_>,
    code: &str,
) -> Result<Vec<u8>, Error> {
    let tool = install::componentize_js(toolchains)?;
    let scratch = Scratch::new(toolchains, "js", hash)?;
    let dir = &scratch.0;
    let file = dir.join("handler.js");
    let code = current_specifiers(code);
    write_if_changed(&file, &format!("{code}\n{}", javascript_glue(source)))?;
    let out = dir.join("handler.wasm");
    tracing::info!(
        handler = source.name,
        "building a JavaScript handler with componentize-js"
    );
    let output = run(Command::new(&tool)
        .arg(&file)
        .arg("--wit")
        .arg(&dirs.wit)
        .args([
            "--world-name",
            "plugin",
            "--disable",
            "http",
            "fetch-event",
            "-o",
        ])
        .arg(&out)
        .current_dir(dir))?;
    if !output.status.success() || !out.is_file() {
        return Err(Error::HandlerCompile {
            label: source.label.to_owned(),
            diagnostics: tool_errors(&output, &file, source.label),
        });
    }
    read_output(&out)
}

/// The user's code with `qntx:plugin/...@0.1.x` import specifiers moved to the version built
/// against: componentize-js resolves a specifier only at the WIT's exact version, and every
/// 0.1.x is compatible with it, so a handler written against an earlier one keeps building.
fn current_specifiers(code: &str) -> String {
    let prefix = format!("{}/", crate::runtime::PACKAGE);
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(&prefix) {
        let (before, after) = rest.split_at(at + prefix.len());
        out.push_str(before);
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
            .unwrap_or(after.len());
        let (name, tail) = after.split_at(name_len);
        out.push_str(name);
        rest = tail;
        let old = crate::runtime::COMPATIBLE_VERSIONS.iter().find(|version| {
            tail.strip_prefix('@')
                .is_some_and(|t| t.starts_with(*version))
        });
        if let Some(old) = old {
            let end = 1 + old.len();
            if !tail[end..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.') {
                out.push('@');
                out.push_str(crate::runtime::VERSION);
                rest = &tail[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn javascript_glue(source: &HandlerSource<'_>) -> String {
    let literal = |text: &str| serde_json::Value::String(text.to_owned()).to_string();
    format!(
        r#"// Added by qntx handler create.
export function metadata() {{
  return {{ name: {name}, version: "0.1.0", description: {description} }};
}}
export function initialize(config) {{
  return {{ handlers: [{{ name: {name}, description: {description} }}], schedules: [], watchers: [] }};
}}
export function executeJob(job) {{
  let result;
  try {{
    result = handle(JSON.parse(job.payload), job);
  }} catch (error) {{
    if (error && (error.tag === "permanent" || error.tag === "retryable")) throw error;
    throw {{ tag: "permanent", val: String(error) }};
  }}
  return {{ result: JSON.stringify(result === undefined ? null : result) }};
}}
"#,
        name = literal(source.name),
        description = literal(source.description),
    )
}

/// A toolchain's complaint, with the scratch file's path replaced by the user's label and the
/// scratch directory's other paths shortened.
fn tool_errors(output: &std::process::Output, file: &Path, label: &str) -> String {
    let mut text = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if text.is_empty() {
        text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    }
    let text = text.replace(&*file.to_string_lossy(), label);
    match file.parent() {
        Some(dir) => text.replace(&format!("{}/", dir.to_string_lossy()), ""),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_follow_file_extensions() {
        assert_eq!(
            Language::from_path(Path::new("a/b.rs")),
            Some(Language::Rust)
        );
        assert_eq!(
            Language::from_path(Path::new("x.py")),
            Some(Language::Python)
        );
        assert_eq!(Language::from_path(Path::new("x.mjs")), Some(Language::Js));
        assert_eq!(
            Language::from_path(Path::new("x.wasm")),
            Some(Language::Wasm)
        );
        assert_eq!(Language::from_path(Path::new("x.txt")), None);
        assert_eq!(Language::from_path(Path::new("x")), None);
    }

    #[test]
    fn names_and_descriptions_are_quoted_in_generated_code() {
        let source = HandlerSource {
            name: "n",
            description: "say \"hi\"\n\\",
            language: Language::Python,
            label: "x.py",
            code: b"",
        };
        assert!(python_app(&source).contains(r#"DESCRIPTION = "say \"hi\"\n\\""#));
        assert!(javascript_glue(&source).contains(r#"description: "say \"hi\"\n\\""#));
    }

    #[test]
    fn earlier_compatible_specifiers_move_to_the_current_version() {
        let current = crate::runtime::VERSION;
        assert_eq!(
            current_specifiers(
                "import { query } from \"qntx:plugin/store@0.1.0\";\nimport { log } from 'qntx:plugin/logging@0.1.0';"
            ),
            format!(
                "import {{ query }} from \"qntx:plugin/store@{current}\";\nimport {{ log }} from 'qntx:plugin/logging@{current}';"
            )
        );
        for unchanged in [
            "import { query } from \"qntx:plugin/store@0.2.0\";",
            "import { query } from \"qntx:plugin/store@0.1.10\";",
            "import { query } from \"qntx:plugin/store\";",
            "const text = \"qntx:plugin/\";",
        ] {
            assert_eq!(current_specifiers(unchanged), unchanged);
        }
    }

    #[test]
    fn the_build_hash_depends_on_every_input() {
        let base = HandlerSource {
            name: "n",
            description: "d",
            language: Language::Rust,
            label: "x.rs",
            code: b"fn handle() {}",
        };
        let hash = build_hash(&base);
        assert_eq!(hash, build_hash(&base.clone()));
        assert_ne!(
            hash,
            build_hash(&HandlerSource {
                name: "m",
                ..base.clone()
            })
        );
        assert_ne!(
            hash,
            build_hash(&HandlerSource {
                code: b"",
                ..base.clone()
            })
        );
        assert_ne!(
            hash,
            build_hash(&HandlerSource {
                description: "",
                ..base
            })
        );
    }
}
