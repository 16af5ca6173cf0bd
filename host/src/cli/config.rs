//! `<data-dir>/qntx.toml`, the node's settings file. Every key is optional:
//!
//! ```toml
//! [pulse]
//! lease = "30s"            # how long a claim holds a job without renewal
//! retention = "7d"         # finished jobs are deleted after this
//! claim_batch = 32         # most jobs one claim takes for the node's workers
//! claim_horizon = "10ms"   # ... but no more than a worker finishes in this time
//! max_job_depth = 32       # levels of child jobs below a root job
//! max_job_descendants = 10000  # jobs in one job tree below its root
//!
//! [pulse.budget]           # spend limits over sliding windows; `qntx budget set` edits these
//! daily = 5.0
//! weekly = 20.0
//! monthly = 50.0
//!
//! [pulse.handlers."text/stats"]
//! per_minute = 60          # job starts per 60 s, over all nodes
//! concurrency = 2          # jobs running at once, over all nodes
//!
//! [database]
//! url = "postgres://qntx:secret@db:5432/qntx"   # --database and QNTX_DATABASE override it
//! listen = true            # false: poll only (a pooler in transaction mode)
//! poll_interval = "100ms"  # how often waiters look without (or besides) LISTEN
//!
//! [http]
//! addr = "127.0.0.1:8770"  # where `qntx run` serves the API; --http overrides it
//! enabled = true           # false: serve no HTTP (--no-http)
//! request_timeout = "30s"  # longest request, streams aside
//! ```
//!
//! `qntx run` flags override the file. Budgets from the file are written to the database when
//! a node starts, where `qntx budget set` changes them while nodes run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::pulse::{BudgetLimits, HandlerLimit, HandlerLimits, Period};

/// The settings file's name in the data directory.
pub(super) const FILE_NAME: &str = "qntx.toml";

/// The parsed settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    #[serde(default)]
    pub(super) pulse: PulseSection,
    #[serde(default)]
    pub(super) database: DatabaseSection,
    #[serde(default)]
    pub(super) http: HttpSection,
}

/// `[http]`: where and whether `qntx run` serves the API.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HttpSection {
    pub(super) addr: Option<std::net::SocketAddr>,
    pub(super) enabled: Option<bool>,
    #[serde(default, with = "humantime_serde_opt")]
    pub(super) request_timeout: Option<Duration>,
}

/// `[database]`: which store, and how a node on PostgreSQL wakes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DatabaseSection {
    pub(super) url: Option<String>,
    pub(super) listen: Option<bool>,
    #[serde(default, with = "humantime_serde_opt")]
    pub(super) poll_interval: Option<Duration>,
}

/// `[pulse]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PulseSection {
    #[serde(default, with = "humantime_serde_opt")]
    pub(super) lease: Option<Duration>,
    #[serde(default, with = "humantime_serde_opt")]
    pub(super) retention: Option<Duration>,
    pub(super) claim_batch: Option<u32>,
    #[serde(default, with = "humantime_serde_opt")]
    pub(super) claim_horizon: Option<Duration>,
    pub(super) max_job_depth: Option<u32>,
    pub(super) max_job_descendants: Option<u64>,
    pub(super) budget: Option<BudgetLimits>,
    #[serde(default)]
    pub(super) handlers: BTreeMap<String, HandlerLimit>,
}

impl PulseSection {
    /// The handler limits the file sets.
    pub(super) fn limits(&self) -> HandlerLimits {
        let mut limits = HandlerLimits::new();
        for (handler, limit) in &self.handlers {
            if let Some(n) = limit.per_minute {
                limits.set_per_minute(handler, n);
            }
            if let Some(n) = limit.concurrency {
                limits.set_concurrency(handler, n);
            }
        }
        limits
    }
}

/// The settings file of a data directory.
pub(super) fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Read the settings file; a missing file means defaults.
pub(super) fn load(data_dir: &Path) -> anyhow::Result<FileConfig> {
    let path = path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).with_context(|| format!("reading settings '{}'", path.display()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(error) => Err(error).with_context(|| format!("reading settings '{}'", path.display())),
    }
}

/// Set `[pulse.budget]` keys in the settings file, keeping the rest of it as written: other
/// settings, comments and layout.
pub(super) fn write_budget(
    data_dir: &Path,
    changes: &[(Period, Option<f64>)],
) -> anyhow::Result<()> {
    let path = path(data_dir);
    let context = || format!("reading settings '{}'", path.display());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(context),
    };
    let mut document: toml_edit::DocumentMut = text.parse().with_context(context)?;
    let pulse = table_at(document.as_table_mut(), "pulse", &path)?;
    let budget = table_at(pulse, "budget", &path)?;
    for (period, limit) in changes {
        let key = period.as_str();
        match (
            limit,
            budget.get_mut(key).and_then(toml_edit::Item::as_value_mut),
        ) {
            (Some(limit), Some(old)) => {
                // A new value keeps the old one's comment and spacing.
                let decor = old.decor().clone();
                *old = toml_edit::Value::from(*limit);
                *old.decor_mut() = decor;
            }
            (Some(limit), None) => {
                budget.insert(key, toml_edit::value(*limit));
            }
            (None, _) => {
                budget.remove(key);
            }
        }
    }
    let text = document.to_string();
    let _checked: FileConfig = toml::from_str(&text).with_context(context)?;
    std::fs::write(&path, text).with_context(|| format!("writing settings '{}'", path.display()))
}

/// The settings file of a data directory, for the HTTP API: budgets set over HTTP are written
/// as `qntx budget set` writes them.
#[derive(Debug)]
pub(super) struct Settings(pub(super) PathBuf);

impl crate::http::SettingsFile for Settings {
    fn write_budget(&self, changes: &[(Period, Option<f64>)]) -> anyhow::Result<()> {
        write_budget(&self.0, changes)
    }
}

/// The table `key` of `parent`, created when missing; an error when `key` holds something else.
fn table_at<'a>(
    parent: &'a mut toml_edit::Table,
    key: &str,
    path: &Path,
) -> anyhow::Result<&'a mut toml_edit::Table> {
    parent
        .entry(key)
        .or_insert_with(|| {
            // A new table without keys of its own gets no header: `[pulse.budget]` alone.
            let mut table = toml_edit::Table::new();
            table.set_implicit(true);
            toml_edit::Item::Table(table)
        })
        .as_table_mut()
        .with_context(|| format!("'{key}' in '{}' is not a table", path.display()))
}

/// Durations in the file are written like `30s`, `7d`.
mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|t| {
            humantime::parse_duration(&t).map_err(|e| {
                serde::de::Error::custom(format!("'{t}' is not a duration like 30s or 7d: {e}"))
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sets_budgets_limits_and_durations_and_refuses_typos() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            path(dir.path()),
            "# Node settings.\n[pulse]\nlease = \"2s\" # renewed at a third\nclaim_batch = 8\n\
             claim_horizon = \"50ms\"\n[pulse.budget]\n\
             daily = 5.0\n[pulse.handlers.\"text/stats\"]\nper_minute = 3\n",
        )
        .unwrap();
        let config = load(dir.path()).unwrap();
        assert_eq!(config.pulse.lease, Some(Duration::from_secs(2)));
        assert_eq!(config.pulse.claim_batch, Some(8));
        assert_eq!(config.pulse.claim_horizon, Some(Duration::from_millis(50)));
        assert_eq!(config.pulse.budget.unwrap().daily, Some(5.0));
        assert_eq!(
            config.pulse.limits().get("text/stats").unwrap().per_minute,
            Some(3)
        );

        write_budget(
            dir.path(),
            &[(Period::Weekly, Some(9.5)), (Period::Daily, None)],
        )
        .unwrap();
        let config = load(dir.path()).unwrap();
        let budget = config.pulse.budget.unwrap();
        assert_eq!((budget.daily, budget.weekly), (None, Some(9.5)));
        assert_eq!(config.pulse.lease, Some(Duration::from_secs(2)), "kept");
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert!(
            text.starts_with("# Node settings.\n") && text.contains("\"2s\" # renewed at a third"),
            "comments are kept: {text}"
        );

        let fresh = tempfile::tempdir().unwrap();
        write_budget(fresh.path(), &[(Period::Monthly, Some(100.0))]).unwrap();
        let budget = load(fresh.path()).unwrap().pulse.budget.unwrap();
        assert_eq!(budget.monthly, Some(100.0));

        std::fs::write(path(fresh.path()), "pulse = 3\n").unwrap();
        let error = format!(
            "{:#}",
            write_budget(fresh.path(), &[(Period::Daily, Some(1.0))]).unwrap_err()
        );
        assert!(error.contains("'pulse' in"), "{error}");
        assert!(error.ends_with("is not a table"), "{error}");

        std::fs::write(path(dir.path()), "[pulse]\nleese = \"2s\"\n").unwrap();
        let error = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(error.contains("unknown field `leese`"), "{error}");
    }
}
