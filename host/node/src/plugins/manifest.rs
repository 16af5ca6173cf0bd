//! Plugin manifests: `<stem>.toml` beside `<stem>.wasm` grants a plugin more than the
//! default-deny sandbox and may set tighter limits. Without one, a plugin gets nothing beyond
//! the sandbox and the node's default limits.
//!
//! ```toml
//! name = "probe"                 # required: the plugin this manifest is for
//! version = "0.1.0"              # optional: refuse another version
//! description = "Test guest"     # optional: for people
//!
//! [grants]
//! env = ["LANG"]                 # variables passed from the node's environment
//!
//! [[grants.dirs]]
//! host = "data"                  # absolute, or relative to this file's directory
//! guest = "/data"                # where the guest sees it
//! mode = "ro"                    # "ro" (default) or "rw"
//!
//! [config]                       # passed to the plugin's `initialize`
//! greeting = "hello"
//!
//! [limits]                       # each at most the node's own limit
//! memory = "32 MiB"              # or a number of bytes
//! timeout = "10s"
//! fuel = 1_000_000               # only on a node that meters fuel
//! concurrency = 2
//! ```
//!
//! Problems are reported together, one line each with how to fix it. A limit above the node's
//! is not a problem: the node's limit wins, and the node says so at load. A writable grant that
//! reaches the node's own files (its data directory, compile cache or plugin directory) is a
//! problem: a plugin able to write there could rewrite the database, plant compiled code or
//! give itself more grants.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Error;
use crate::runtime::{DirGrant, Grants, Limits, mib};

/// A plugin manifest as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The plugin it is for: must equal the name the component announces.
    pub name: String,
    /// When set, the version the component must announce.
    pub version: Option<String>,
    /// What the plugin does, for people.
    pub description: Option<String>,
    /// Capabilities asked for.
    #[serde(default)]
    pub grants: GrantsSpec,
    /// Values passed to `initialize`.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// Limits asked for.
    #[serde(default)]
    pub limits: LimitsSpec,
}

/// `[grants]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsSpec {
    /// Directories mapped into the guest.
    #[serde(default)]
    pub dirs: Vec<DirSpec>,
    /// Environment variables passed from the node's environment.
    #[serde(default)]
    pub env: Vec<String>,
}

/// One `[[grants.dirs]]` entry as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DirSpec {
    /// The host directory: absolute, or relative to the manifest's directory.
    pub host: PathBuf,
    /// The absolute path where the guest sees it.
    pub guest: String,
    /// Read-only unless `rw`.
    #[serde(default)]
    pub mode: DirMode,
}

/// What a guest may do in a granted directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum DirMode {
    /// Read files and list directories.
    #[default]
    #[serde(rename = "ro")]
    ReadOnly,
    /// Also create, change and delete.
    #[serde(rename = "rw")]
    ReadWrite,
}

/// `[limits]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Linear memory: bytes, or text like `32 MiB`.
    pub memory: Option<Size>,
    /// Wall-clock time of one attempt, like `10s`.
    pub timeout: Option<String>,
    /// Fuel of one attempt.
    pub fuel: Option<u64>,
    /// Jobs running at once.
    pub concurrency: Option<usize>,
}

/// A size: a number of bytes, or text with a unit (`512 KiB`, `32 MiB`, `1 GiB`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Size {
    /// Bytes.
    Bytes(u64),
    /// Text with a unit.
    Text(String),
}

/// A directory of the node's own that no writable grant may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDir {
    /// What it is, for messages: "data directory".
    pub what: &'static str,
    /// Where it is (canonical).
    pub path: PathBuf,
    /// Whether every directory inside it is the node's too; otherwise only a grant of the
    /// directory itself or of one holding it reaches its files.
    pub whole: bool,
}

impl NodeDir {
    /// `path` as a protected directory, if it exists.
    pub fn at(what: &'static str, path: &Path, whole: bool) -> Option<Self> {
        Some(Self {
            what,
            path: std::fs::canonicalize(path).ok()?,
            whole,
        })
    }

    /// Whether granting `host` (canonical) reaches this directory's files.
    fn reached_by(&self, host: &Path) -> bool {
        self.path.starts_with(host) || (self.whole && host.starts_with(&self.path))
    }
}

/// What a plugin runs with: its manifest resolved against the node's limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Effective limits: the manifest's, capped by the node's.
    pub limits: Limits,
    /// Granted capabilities.
    pub grants: Grants,
    /// What the node changed or ignored, to tell the operator.
    pub notes: Vec<String>,
}

impl Policy {
    /// The policy of a plugin without a manifest: no grants, the node's limits.
    pub fn default_for(node: &Limits) -> Self {
        Self {
            limits: node.clone(),
            ..Self::default()
        }
    }
}

/// The manifest file that belongs to a component file.
pub fn manifest_path(wasm: &Path) -> PathBuf {
    wasm.with_extension("toml")
}

/// Read the manifest beside `wasm`, if there is one.
///
/// # Errors
///
/// [`Error::Manifest`] when it cannot be read or is not a valid manifest.
pub fn read_beside(wasm: &Path) -> Result<Option<Manifest>, Error> {
    read_text_beside(wasm)?
        .map(|text| parse_beside(wasm, &text))
        .transpose()
}

/// The text of the manifest beside `wasm`, if there is one.
///
/// # Errors
///
/// [`Error::Manifest`] when it exists but cannot be read.
pub fn read_text_beside(wasm: &Path) -> Result<Option<String>, Error> {
    let path = manifest_path(wasm);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::Manifest {
            path,
            problems: vec![format!("cannot be read: {error}")],
        }),
    }
}

/// Parse `text`, the manifest beside `wasm`.
///
/// # Errors
///
/// [`Error::Manifest`] when it is not a valid manifest.
pub fn parse_beside(wasm: &Path, text: &str) -> Result<Manifest, Error> {
    toml::from_str(text).map_err(|error| Error::Manifest {
        path: manifest_path(wasm),
        problems: vec![error.to_string().trim().replace('\n', "\n    ")],
    })
}

impl Manifest {
    /// Check the manifest and resolve it against the node's limits. Relative host directories
    /// are relative to `base` (the manifest's directory); granted variables take their values
    /// from the node's environment now. No writable grant may reach `node_dirs`.
    ///
    /// # Errors
    ///
    /// Every problem found, one line each, saying how to fix it.
    pub fn resolve(
        &self,
        base: &Path,
        node: &Limits,
        fuel_metered: bool,
        node_dirs: &[NodeDir],
    ) -> Result<Policy, Vec<String>> {
        let mut problems = Vec::new();
        let mut notes = Vec::new();
        if let Err(reason) = super::check_plugin_name(&self.name) {
            problems.push(format!("name: {reason}"));
        }
        let grants = Grants {
            dirs: self.resolve_dirs(base, node_dirs, &mut problems),
            env: self.resolve_env(&mut problems, &mut notes),
            config: self.resolve_config(&mut problems).into(),
        };
        let limits = self.resolve_limits(node, fuel_metered, &mut problems, &mut notes);
        if problems.is_empty() {
            Ok(Policy {
                limits,
                grants,
                notes,
            })
        } else {
            Err(problems)
        }
    }

    fn resolve_dirs(
        &self,
        base: &Path,
        node_dirs: &[NodeDir],
        problems: &mut Vec<String>,
    ) -> Vec<DirGrant> {
        let mut dirs = Vec::new();
        let mut guests = HashSet::new();
        for (index, dir) in self.grants.dirs.iter().enumerate() {
            let at = format!("grants.dirs[{index}]");
            if !dir.guest.starts_with('/') || dir.guest.split('/').any(|part| part == "..") {
                problems.push(format!(
                    "{at}.guest '{}' must be an absolute guest path without '..', like \"/data\"",
                    dir.guest
                ));
            } else if !guests.insert(dir.guest.trim_end_matches('/').to_owned()) {
                problems.push(format!(
                    "{at}.guest '{}' is granted twice: give each directory its own guest path",
                    dir.guest
                ));
            }
            let host = base.join(&dir.host);
            let writable = dir.mode == DirMode::ReadWrite;
            let reached = |host: &Path| node_dirs.iter().find(|node| node.reached_by(host));
            match std::fs::canonicalize(&host) {
                Ok(host) if writable && let Some(node) = reached(&host) => {
                    problems.push(format!(
                        "{at}.host '{}' is writable and reaches the node's {} '{}': a plugin \
                         writing there could escape its sandbox; grant it read-only (\"ro\"), or \
                         a directory outside",
                        host.display(),
                        node.what,
                        node.path.display()
                    ));
                }
                Ok(host) if host.is_dir() => dirs.push(DirGrant {
                    host,
                    guest: dir.guest.clone(),
                    writable,
                }),
                Ok(_) => problems.push(format!(
                    "{at}.host '{}' is not a directory: grant a directory",
                    host.display()
                )),
                Err(error) => problems.push(format!(
                    "{at}.host '{}' cannot be opened ({error}): create it or fix the path",
                    host.display()
                )),
            }
        }
        dirs
    }

    fn resolve_env(
        &self,
        problems: &mut Vec<String>,
        notes: &mut Vec<String>,
    ) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for name in &self.grants.env {
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                problems.push(format!(
                    "grants.env '{name}' is not a variable name: use letters, digits and '_'"
                ));
                continue;
            }
            match std::env::var(name) {
                Ok(value) => env.push((name.clone(), value)),
                Err(_) => notes.push(format!(
                    "plugin '{}' is granted environment variable '{name}', which is not set on \
                     this node: the plugin will not see it",
                    self.name
                )),
            }
        }
        env
    }

    fn resolve_config(&self, problems: &mut Vec<String>) -> Vec<(String, String)> {
        let mut config = Vec::new();
        for (key, value) in &self.config {
            let text = match value {
                toml::Value::String(text) => text.clone(),
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                    value.to_string()
                }
                toml::Value::Datetime(datetime) => datetime.to_string(),
                toml::Value::Array(_) | toml::Value::Table(_) => {
                    problems.push(format!(
                        "config.{key} is a {}: config values are strings, numbers or booleans",
                        value.type_str()
                    ));
                    continue;
                }
            };
            config.push((key.clone(), text));
        }
        config
    }

    fn resolve_limits(
        &self,
        node: &Limits,
        fuel_metered: bool,
        problems: &mut Vec<String>,
        notes: &mut Vec<String>,
    ) -> Limits {
        let mut limits = node.clone();
        let spec = &self.limits;
        let name = &self.name;
        if let Some(size) = &spec.memory {
            match size.bytes() {
                Some(0) | None => problems.push(format!(
                    "limits.memory {} is not a size: use bytes or text like \"32 MiB\"",
                    size.shown()
                )),
                Some(asked) if asked > node.memory_bytes => notes.push(format!(
                    "plugin '{name}' asks for {} memory; this node allows {}: using {}",
                    mib(asked),
                    mib(node.memory_bytes),
                    mib(node.memory_bytes)
                )),
                Some(asked) => limits.memory_bytes = asked,
            }
        }
        if let Some(text) = &spec.timeout {
            match humantime::parse_duration(text) {
                Ok(asked) if asked == Duration::ZERO => problems.push(format!(
                    "limits.timeout '{text}' is zero: use a duration like \"10s\""
                )),
                Err(error) => problems.push(format!(
                    "limits.timeout '{text}' is not a duration ({error}): use text like \"10s\""
                )),
                Ok(asked) if asked > node.timeout => notes.push(format!(
                    "plugin '{name}' asks for a {} timeout; this node allows {}: using {}",
                    humantime::format_duration(asked),
                    humantime::format_duration(node.timeout),
                    humantime::format_duration(node.timeout)
                )),
                Ok(asked) => limits.timeout = asked,
            }
        }
        match spec.fuel {
            None => {}
            Some(0) => problems.push("limits.fuel is 0: use a positive number or leave it out".into()),
            Some(asked) if !fuel_metered => notes.push(format!(
                "plugin '{name}' asks for fuel {asked}; this node does not meter fuel: its \
                 jobs are bounded by the timeout only"
            )),
            Some(asked) => match node.fuel {
                Some(allowed) if asked > allowed => notes.push(format!(
                    "plugin '{name}' asks for fuel {asked}; this node allows {allowed}: using {allowed}"
                )),
                _ => limits.fuel = Some(asked),
            },
        }
        match spec.concurrency {
            None => {}
            Some(0) => problems.push(
                "limits.concurrency is 0: use a positive number of jobs or leave it out".into(),
            ),
            Some(asked) if asked > node.concurrency => notes.push(format!(
                "plugin '{name}' asks for {asked} jobs at once; this node allows {}: using {}",
                node.concurrency, node.concurrency
            )),
            Some(asked) => limits.concurrency = asked,
        }
        limits
    }
}

impl Size {
    /// The size in bytes; `None` for text that is not a number followed by nothing, B, KiB,
    /// MiB or GiB.
    pub fn bytes(&self) -> Option<usize> {
        match self {
            Self::Bytes(bytes) => usize::try_from(*bytes).ok(),
            Self::Text(text) => {
                let text = text.trim();
                let split = text
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(text.len());
                let number: usize = text[..split].parse().ok()?;
                let shift = match text[split..].trim() {
                    "" | "B" => 0,
                    "KiB" => 10,
                    "MiB" => 20,
                    "GiB" => 30,
                    _ => return None,
                };
                number.checked_mul(1 << shift)
            }
        }
    }

    fn shown(&self) -> String {
        match self {
            Self::Bytes(bytes) => bytes.to_string(),
            Self::Text(text) => format!("'{text}'"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Manifest {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_node_limits_win_and_the_node_says_so() {
        let manifest = parse(
            "name = \"big\"\n[limits]\nmemory = \"512 MiB\"\ntimeout = \"5s\"\nconcurrency = 1000\nfuel = 10",
        );
        let policy = manifest
            .resolve(Path::new("/"), &Limits::default(), false, &[])
            .unwrap();
        assert_eq!(policy.limits.memory_bytes, 64 << 20);
        assert_eq!(policy.limits.timeout, Duration::from_secs(5));
        assert_eq!(policy.limits.concurrency, 64);
        assert_eq!(policy.limits.fuel, None);
        assert_eq!(
            policy.notes,
            [
                "plugin 'big' asks for 512 MiB memory; this node allows 64 MiB: using 64 MiB",
                "plugin 'big' asks for fuel 10; this node does not meter fuel: its jobs are bounded by the timeout only",
                "plugin 'big' asks for 1000 jobs at once; this node allows 64: using 64",
            ]
        );
        let metered = manifest
            .resolve(Path::new("/"), &Limits::default(), true, &[])
            .unwrap();
        assert_eq!(metered.limits.fuel, Some(10));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let manifest = parse(
            r#"
            name = "Bad"
            [[grants.dirs]]
            host = "/nonexistent/qntx"
            guest = "data"
            [grants]
            env = ["A-B"]
            [config]
            list = [1, 2]
            [limits]
            memory = "lots"
            timeout = "0s"
            concurrency = 0
            "#,
        );
        let problems = manifest
            .resolve(Path::new("/"), &Limits::default(), false, &[])
            .unwrap_err();
        assert_eq!(problems.len(), 8, "{problems:#?}");
        assert!(problems[0].starts_with("name: plugin name 'Bad' is invalid"));
        assert!(problems[1].starts_with("grants.dirs[0].guest 'data' must be an absolute"));
        assert!(
            problems[2].starts_with("grants.dirs[0].host '/nonexistent/qntx' cannot be opened")
        );
        assert!(problems[3].starts_with("grants.env 'A-B' is not a variable name"));
        assert_eq!(
            problems[4],
            "config.list is a array: config values are strings, numbers or booleans"
        );
    }

    #[test]
    fn unknown_keys_and_modes_are_refused_by_the_parser() {
        assert!(toml::from_str::<Manifest>("name = \"x\"\nnetwork = true").is_err());
        let mode = toml::from_str::<Manifest>(
            "name = \"x\"\n[[grants.dirs]]\nhost = \"/\"\nguest = \"/d\"\nmode = \"rwx\"",
        );
        assert!(mode.is_err());
    }

    #[test]
    fn grants_resolve_relative_dirs_config_and_env() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let manifest = parse(
            "name = \"ok\"\n[[grants.dirs]]\nhost = \"data\"\nguest = \"/data\"\nmode = \"rw\"\n[grants]\nenv = [\"PATH\", \"QNTX_SURELY_UNSET\"]\n[config]\nn = 3\ns = \"x\"",
        );
        let policy = manifest
            .resolve(dir.path(), &Limits::default(), false, &[])
            .unwrap();
        assert_eq!(
            policy.grants.dirs[0].host,
            dir.path().join("data").canonicalize().unwrap()
        );
        assert!(policy.grants.dirs[0].writable);
        assert_eq!(policy.grants.env[0].0, "PATH");
        assert_eq!(policy.grants.env.len(), 1);
        assert_eq!(
            *policy.grants.config,
            [("n".into(), "3".into()), ("s".into(), "x".into())]
        );
        assert!(policy.notes[0].contains("'QNTX_SURELY_UNSET', which is not set on this node"));
    }

    /// The forms the WIT's `config` interface documents, key by key.
    #[test]
    fn config_values_become_the_strings_the_wit_documents() {
        let manifest = parse(
            "name = \"ok\"\n[config]\ns = \"a \\\"b\\\"\"\nhex = 0x10\nbig = 1_000\nneg = -7\n\
             half = 1.5\ntwo = 2.0\nexp = 1e3\ninf = inf\nninf = -inf\nnan = nan\nyes = true\nno = false\n\
             when = 1979-05-27T07:32:00Z\nday = 1979-05-27",
        );
        let policy = manifest
            .resolve(Path::new("."), &Limits::default(), false, &[])
            .unwrap();
        let config: BTreeMap<&str, &str> = policy
            .grants
            .config
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let expected = [
            ("s", "a \"b\""),
            ("hex", "16"),
            ("big", "1000"),
            ("neg", "-7"),
            ("half", "1.5"),
            ("two", "2.0"),
            ("exp", "1000.0"),
            ("inf", "inf"),
            ("ninf", "-inf"),
            ("nan", "nan"),
            ("yes", "true"),
            ("no", "false"),
            ("when", "1979-05-27T07:32:00Z"),
            ("day", "1979-05-27"),
        ];
        assert_eq!(config, BTreeMap::from(expected));
        let keys: Vec<&str> = policy
            .grants
            .config
            .iter()
            .map(|(key, _)| key.as_str())
            .collect();
        assert!(keys.is_sorted(), "sorted by key: {keys:?}");
    }

    #[test]
    fn no_writable_grant_reaches_the_nodes_own_directories() {
        let root = tempfile::tempdir().unwrap();
        for sub in ["data/plugins/scratch", "data/cache/entries", "elsewhere"] {
            std::fs::create_dir_all(root.path().join(sub)).unwrap();
        }
        let data = root.path().join("data");
        let node_dirs = [
            NodeDir::at("data directory", &data, false).unwrap(),
            NodeDir::at("plugin directory", &data.join("plugins"), false).unwrap(),
            NodeDir::at("compile cache", &data.join("cache"), true).unwrap(),
        ];
        let grant = |host: &str, mode: &str| {
            parse(&format!(
                "name = \"g\"\n[[grants.dirs]]\nhost = \"{host}\"\nguest = \"/d\"\nmode = \"{mode}\""
            ))
            .resolve(&data.join("plugins"), &Limits::default(), false, &node_dirs)
        };
        for (host, what) in [
            ("..", "data directory"),
            ("../..", "data directory"),
            (".", "plugin directory"),
            ("../cache/entries", "compile cache"),
        ] {
            let problems = grant(host, "rw").unwrap_err();
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].contains(&format!("is writable and reaches the node's {what}")),
                "{host}: {problems:?}"
            );
            assert!(grant(host, "ro").is_ok(), "{host} read-only is allowed");
        }
        assert!(grant("scratch", "rw").is_ok(), "a directory of its own");
        assert!(grant("../../elsewhere", "rw").is_ok());
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(Size::Text("32 MiB".into()).bytes(), Some(32 << 20));
        assert_eq!(Size::Text("512KiB".into()).bytes(), Some(512 << 10));
        assert_eq!(Size::Bytes(1000).bytes(), Some(1000));
        assert_eq!(Size::Text("1 MB".into()).bytes(), None);
    }
}
