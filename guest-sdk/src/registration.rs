//! What a plugin announces at `initialize`: handlers, schedules and watchers.

use crate::Value;
use crate::bindings::qntx::plugin::types as wit;

/// The handlers, schedules and watchers a plugin announces. Built with chained calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registration {
    handlers: Vec<(String, String)>,
    schedules: Vec<Schedule>,
    watchers: Vec<Watcher>,
}

impl Registration {
    /// An empty registration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Announce a handler: lowercase letters, digits, `-` and `_`.
    pub fn handler(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.handlers.push((name.into(), description.into()));
        self
    }

    /// Ask the node to enqueue a job for one of this plugin's handlers at an interval.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedules.push(schedule);
        self
    }

    /// Ask the node to enqueue a job whenever a new attestation matches a filter.
    pub fn watcher(mut self, watcher: Watcher) -> Self {
        self.watchers.push(watcher);
        self
    }

    pub(crate) fn into_wit(self) -> wit::Registration {
        wit::Registration {
            handlers: self
                .handlers
                .into_iter()
                .map(|(name, description)| wit::HandlerSpec { name, description })
                .collect(),
            schedules: self.schedules.into_iter().map(Schedule::into_wit).collect(),
            watchers: self.watchers.into_iter().map(Watcher::into_wit).collect(),
        }
    }
}

/// A job enqueued at a fixed interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    handler: String,
    interval_seconds: u64,
    enabled: bool,
    payload: Value,
}

impl Schedule {
    /// Run `handler` every `interval_seconds`, with a `null` payload, enabled.
    pub fn every(handler: impl Into<String>, interval_seconds: u64) -> Self {
        Self {
            handler: handler.into(),
            interval_seconds,
            enabled: true,
            payload: Value::Null,
        }
    }

    /// The payload of each job.
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }

    /// Announce the schedule paused; a user resumes it with `qntx schedule resume`.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    fn into_wit(self) -> wit::ScheduleSpec {
        wit::ScheduleSpec {
            handler: self.handler,
            interval_seconds: self.interval_seconds,
            enabled: self.enabled,
            payload: self.payload.to_string(),
        }
    }
}

/// A job enqueued for each new attestation that matches a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Watcher {
    handler: String,
    filter: Filter,
    max_fires_per_second: f64,
    include_own_writes: bool,
}

impl Watcher {
    /// Run `handler` for each new attestation matching `filter`, at most 10 per second.
    pub fn new(handler: impl Into<String>, filter: Filter) -> Self {
        Self {
            handler: handler.into(),
            filter,
            max_fires_per_second: 10.0,
            include_own_writes: false,
        }
    }

    /// Bound the rate of jobs this watcher enqueues.
    pub fn max_fires_per_second(mut self, rate: f64) -> Self {
        self.max_fires_per_second = rate;
        self
    }

    /// Fire on this plugin's own attestations too (off by default, to prevent loops).
    pub fn include_own_writes(mut self) -> Self {
        self.include_own_writes = true;
        self
    }

    fn into_wit(self) -> wit::WatcherSpec {
        wit::WatcherSpec {
            handler: self.handler,
            filter: self.filter.into_wit(),
            max_fires_per_second: self.max_fires_per_second,
            include_own_writes: self.include_own_writes,
        }
    }
}

/// Conditions on attestations: OR within a dimension, AND across, case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    subjects: Vec<String>,
    predicates: Vec<String>,
    contexts: Vec<String>,
    actors: Vec<String>,
}

impl Filter {
    /// A filter that matches everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also match this subject.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subjects.push(subject.into());
        self
    }

    /// Also match this predicate.
    pub fn predicate(mut self, predicate: impl Into<String>) -> Self {
        self.predicates.push(predicate.into());
        self
    }

    /// Also match this context.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.contexts.push(context.into());
        self
    }

    /// Also match this actor.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actors.push(actor.into());
        self
    }

    pub(crate) fn into_wit(self) -> wit::AttestationFilter {
        wit::AttestationFilter {
            subjects: self.subjects,
            predicates: self.predicates,
            contexts: self.contexts,
            actors: self.actors,
        }
    }
}
