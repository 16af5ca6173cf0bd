//! Resolving a manifest's grants (directories, environment, config) and name against the
//! node: the [`Policy`] a plugin runs with.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{DirMode, Manifest};
use crate::runtime::{DirGrant, Grants, Limits};

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
        if let Err(reason) = crate::plugins::check_plugin_name(&self.name) {
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
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn parse(text: &str) -> Manifest {
        toml::from_str(text).unwrap()
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
}
