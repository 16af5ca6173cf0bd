//! Schedules and watchers, as announced and as stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ats::{Attestation, Query};

/// A schedule a plugin announces (or a user adds).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    /// Full handler name.
    pub handler: String,
    /// Milliseconds between runs; at least 1,000.
    pub interval_ms: i64,
    /// Whether it fires (a user can pause and resume it).
    pub enabled: bool,
    /// The payload of each job.
    pub payload: Value,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    /// `<handler>@<interval>` for a plugin's schedule, `user-<ulid>` for a user's.
    pub id: String,
    /// The plugin that announced it, or `user`.
    pub owner: String,
    /// Full handler name.
    pub handler: String,
    /// The payload of each job.
    pub payload: Value,
    /// Milliseconds between runs.
    pub interval_ms: i64,
    /// Whether it fires.
    pub enabled: bool,
    /// When it fires next, Unix milliseconds.
    pub next_run_at: i64,
    /// The job it enqueued last.
    pub last_job_id: Option<String>,
}

impl Schedule {
    /// The job source that marks jobs of this schedule.
    pub fn source(&self) -> String {
        format!("schedule:{}", self.id)
    }
}

/// Which attestations a watcher reacts to: OR within a list, AND across lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatcherFilter {
    /// Any of these subjects (none: any).
    pub subjects: Vec<String>,
    /// Any of these predicates.
    pub predicates: Vec<String>,
    /// Any of these contexts.
    pub contexts: Vec<String>,
    /// Any of these actors.
    pub actors: Vec<String>,
}

/// A watcher a plugin announces.
#[derive(Debug, Clone, PartialEq)]
pub struct WatcherSpec {
    /// Full handler name.
    pub handler: String,
    /// Which attestations fire it.
    pub filter: WatcherFilter,
    /// Jobs per second it may enqueue on one node.
    pub max_fires_per_second: f64,
    /// Fire on the owner's own attestations too.
    pub include_own_writes: bool,
}

/// A stored watcher.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Watcher {
    /// `<handler>#<n>`.
    pub id: String,
    /// The plugin that announced it.
    pub owner: String,
    /// Full handler name.
    pub handler: String,
    /// Which attestations fire it.
    pub filter: WatcherFilter,
    /// Jobs per second it may enqueue on one node.
    pub max_fires_per_second: f64,
    /// Fire on the owner's own attestations too.
    pub include_own_writes: bool,
    /// The last attestation seq examined.
    pub cursor_seq: i64,
}

impl Watcher {
    /// Whether `attestation` fires this watcher. Its own writes are the plugin's actor,
    /// `plugin:OWNER`: a person or handler named like the plugin still fires it.
    pub fn fires_on(&self, attestation: &Attestation) -> bool {
        let own = |actor: &String| {
            actor.strip_prefix(crate::ats::actor::PLUGIN_PREFIX) == Some(self.owner.as_str())
        };
        if !self.include_own_writes && attestation.actors.iter().any(own) {
            return false;
        }
        Query {
            subjects: self.filter.subjects.clone(),
            predicates: self.filter.predicates.clone(),
            contexts: self.filter.contexts.clone(),
            actors: self.filter.actors.clone(),
            ..Query::default()
        }
        .matches(attestation)
    }

    /// The job source that marks jobs of this watcher.
    pub fn source(&self) -> String {
        format!("watcher:{}", self.id)
    }
}
