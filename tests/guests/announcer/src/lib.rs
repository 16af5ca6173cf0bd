//! The `announcer` test guest: what it announces at load is set from outside, to try the
//! node's bounds on announcements and its handling of a slow `initialize`.
//!
//! `metadata` reads the environment its manifest grants (a guest has no other input there):
//! the name is the value of the first variable whose name starts with `ANNOUNCER_NAME`
//! (default `announcer`), and `ANNOUNCER_VERSION_BYTES` / `ANNOUNCER_DESCRIPTION_BYTES` pad the
//! version and description to that many bytes.
//!
//! `initialize` reads the manifest's `[config]`: `spin_ms` busy-waits that long first, then it
//! announces `handlers` handlers (`h0`, `h1`, ...; default 1), `schedules` schedules and
//! `watchers` watchers of `h0`, each handler description `description_bytes` long, each
//! schedule payload a JSON string of `payload_bytes` bytes and each watcher filtering on
//! `filter_values` subjects. It logs `announcer initialize ran` when it starts.
//!
//! Its one real handler, `h0`, returns the job's handler name and payload.

use std::hint::black_box;
use std::time::{Duration, Instant};

use qntx_guest::{
    Config, Filter, Job, JobError, Plugin, PluginInfo, Registration, Schedule, Value, Watcher,
    json, log,
};

struct Announcer;

fn env_bytes(key: &str) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

fn padded(text: &str, bytes: usize) -> String {
    let mut text = text.to_owned();
    while text.len() < bytes {
        text.push('x');
    }
    text
}

impl Plugin for Announcer {
    fn info() -> PluginInfo {
        let name = std::env::vars()
            .find(|(key, _)| key.starts_with("ANNOUNCER_NAME"))
            .map_or_else(|| "announcer".to_owned(), |(_, value)| value);
        PluginInfo::new(
            name,
            padded("0.1.0+", env_bytes("ANNOUNCER_VERSION_BYTES")),
            padded(
                "Announces what its manifest says",
                env_bytes("ANNOUNCER_DESCRIPTION_BYTES"),
            ),
        )
    }

    fn initialize(config: &Config) -> Result<Registration, String> {
        log::info("announcer initialize ran");
        let number = |key: &str, default: usize| {
            config
                .get(key)
                .map_or(Ok(default), |value| value.parse::<usize>())
                .map_err(|e| format!("config '{key}': {e}"))
        };
        let spin = Duration::from_millis(number("spin_ms", 0)? as u64);
        let started = Instant::now();
        while started.elapsed() < spin {
            black_box(started);
        }
        let description = padded("", number("description_bytes", 0)?);
        let mut registration = Registration::new();
        for i in 0..number("handlers", 1)? {
            registration = registration.handler(format!("h{i}"), description.clone());
        }
        let payload = Value::String(padded("", number("payload_bytes", 0)?));
        for i in 0..number("schedules", 0)? {
            registration = registration
                .schedule(Schedule::every("h0", 3600 + i as u64).payload(payload.clone()));
        }
        let subjects = number("filter_values", 1)?;
        for i in 0..number("watchers", 0)? {
            let filter = (0..subjects).fold(Filter::new(), |filter, j| {
                filter.subject(format!("s{i}-{j}"))
            });
            registration = registration.watcher(Watcher::new("h0", filter));
        }
        Ok(registration)
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        Ok(json!({ "handler": job.handler, "payload": job.payload }))
    }
}

qntx_guest::export_plugin!(Announcer);
