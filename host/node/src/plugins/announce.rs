//! Checking what a plugin announces at load: its metadata and its registration, against naming
//! rules and the bounds below, in time linear in what it announced.
//!
//! The bounds are far above what a real plugin needs; they exist so that a hostile or broken
//! plugin cannot make the node spend unbounded memory or time registering it.

use std::collections::HashSet;

use super::names::shown;
use super::{check_handler_name, check_plugin_name};
use crate::pulse::triggers::{ScheduleSpec, WatcherFilter, WatcherSpec};
use crate::runtime::types;

/// Most handlers one plugin may announce.
pub const MAX_HANDLERS: usize = 256;
/// Most schedules one plugin may announce.
pub const MAX_SCHEDULES: usize = 256;
/// Most watchers one plugin may announce.
pub const MAX_WATCHERS: usize = 256;
/// Longest version string, in bytes.
pub const MAX_VERSION_BYTES: usize = 128;
/// Longest description (of the plugin or of one handler), in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 1024;
/// Longest payload of one schedule, in bytes of JSON.
pub const MAX_SCHEDULE_PAYLOAD_BYTES: usize = 64 * 1024;
/// Longest interval of a schedule, in seconds: Pulse's bound (366 days).
pub const MAX_SCHEDULE_INTERVAL_SECONDS: u64 =
    crate::pulse::triggers::store::MAX_INTERVAL_SECONDS.unsigned_abs();
/// Most values in one dimension of a watcher's filter.
pub const MAX_FILTER_VALUES: usize = 100;
/// Longest value in a watcher's filter, in bytes.
pub const MAX_FILTER_VALUE_BYTES: usize = 1024;

/// What a plugin announced, checked.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: String,
    /// Own names and descriptions, in announcement order.
    pub(crate) handlers: Vec<(String, String)>,
    pub(crate) schedules: Vec<ScheduleSpec>,
    pub(crate) watchers: Vec<WatcherSpec>,
}

/// Check `info` and `registration`.
///
/// # Errors
///
/// The first rule or bound broken, naming the bound and the value.
pub(crate) fn check(
    info: types::PluginInfo,
    registration: types::Registration,
) -> Result<Checked, String> {
    let types::PluginInfo {
        name,
        version,
        description,
    } = info;
    check_plugin_name(&name)?;
    if version.trim().is_empty() {
        return Err(format!("plugin '{name}' has an empty version"));
    }
    bounded(
        &format!("the version of plugin '{name}'"),
        &version,
        MAX_VERSION_BYTES,
    )?;
    bounded(
        &format!("the description of plugin '{name}'"),
        &description,
        MAX_DESCRIPTION_BYTES,
    )?;
    let types::Registration {
        handlers: handler_specs,
        schedules: schedule_specs,
        watchers: watcher_specs,
    } = registration;
    counted(&name, "handlers", handler_specs.len(), MAX_HANDLERS)?;
    counted(&name, "schedules", schedule_specs.len(), MAX_SCHEDULES)?;
    counted(&name, "watchers", watcher_specs.len(), MAX_WATCHERS)?;

    let mut seen = HashSet::with_capacity(handler_specs.len());
    let mut handlers = Vec::with_capacity(handler_specs.len());
    for spec in handler_specs {
        check_handler_name(&spec.name)?;
        bounded(
            &format!("the description of handler '{}'", spec.name),
            &spec.description,
            MAX_DESCRIPTION_BYTES,
        )?;
        if !seen.insert(spec.name.clone()) {
            return Err(format!(
                "plugin '{name}' announces handler '{}' twice",
                spec.name
            ));
        }
        handlers.push((spec.name, spec.description));
    }
    let own = |handler: &str| -> Result<String, String> {
        if seen.contains(handler) {
            Ok(format!("{name}/{handler}"))
        } else {
            Err(format!(
                "plugin '{name}' announces a schedule or watcher for handler '{}', which it does \
                 not announce",
                shown(handler)
            ))
        }
    };
    let mut schedules = Vec::with_capacity(schedule_specs.len());
    for spec in schedule_specs {
        let handler = own(&spec.handler)?;
        bounded(
            &format!("the payload of the schedule for '{handler}'"),
            &spec.payload,
            MAX_SCHEDULE_PAYLOAD_BYTES,
        )?;
        let payload = match spec.payload.as_str() {
            "" => serde_json::Value::Null,
            text => serde_json::from_str(text).map_err(|e| {
                format!("the payload of the schedule for '{handler}' is not JSON: {e}")
            })?,
        };
        if spec.interval_seconds == 0 {
            return Err(format!(
                "the schedule for '{handler}' has an interval of 0 seconds"
            ));
        }
        if spec.interval_seconds > MAX_SCHEDULE_INTERVAL_SECONDS {
            return Err(format!(
                "the schedule for '{handler}' has an interval of {} seconds; the limit is \
                 {MAX_SCHEDULE_INTERVAL_SECONDS} (366 days)",
                spec.interval_seconds
            ));
        }
        schedules.push(ScheduleSpec {
            handler,
            // At most 366 days: the product fits, and so does now plus it.
            interval_ms: i64::try_from(spec.interval_seconds * 1000).unwrap_or(i64::MAX),
            enabled: spec.enabled,
            payload,
        });
    }
    let mut watchers = Vec::with_capacity(watcher_specs.len());
    for spec in watcher_specs {
        let handler = own(&spec.handler)?;
        if !(spec.max_fires_per_second.is_finite() && spec.max_fires_per_second > 0.0) {
            return Err(format!(
                "the watcher for '{handler}' must allow a positive number of fires per second"
            ));
        }
        let filter = spec.filter;
        for (dimension, values) in [
            ("subjects", &filter.subjects),
            ("predicates", &filter.predicates),
            ("contexts", &filter.contexts),
            ("actors", &filter.actors),
        ] {
            if values.len() > MAX_FILTER_VALUES {
                return Err(format!(
                    "the watcher for '{handler}' filters on {} {dimension}; the limit is \
                     {MAX_FILTER_VALUES}",
                    values.len()
                ));
            }
            for value in values {
                bounded(
                    &format!("a value in the watcher's filter for '{handler}'"),
                    value,
                    MAX_FILTER_VALUE_BYTES,
                )?;
            }
        }
        watchers.push(WatcherSpec {
            handler,
            filter: WatcherFilter {
                subjects: filter.subjects,
                predicates: filter.predicates,
                contexts: filter.contexts,
                actors: filter.actors,
            },
            max_fires_per_second: spec.max_fires_per_second,
            include_own_writes: spec.include_own_writes,
        });
    }
    Ok(Checked {
        name,
        version,
        description,
        handlers,
        schedules,
        watchers,
    })
}

fn bounded(what: &str, text: &str, limit: usize) -> Result<(), String> {
    if text.len() > limit {
        return Err(format!(
            "{what} is {} bytes; the limit is {limit} bytes",
            text.len()
        ));
    }
    Ok(())
}

fn counted(plugin: &str, what: &str, count: usize, limit: usize) -> Result<(), String> {
    if count > limit {
        return Err(format!(
            "plugin '{plugin}' announces {count} {what}; the limit is {limit}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, version: &str) -> types::PluginInfo {
        types::PluginInfo {
            name: name.into(),
            version: version.into(),
            description: String::new(),
        }
    }

    fn handlers(count: usize) -> types::Registration {
        types::Registration {
            handlers: (0..count)
                .map(|i| types::HandlerSpec {
                    name: format!("h{i}"),
                    description: String::new(),
                })
                .collect(),
            schedules: Vec::new(),
            watchers: Vec::new(),
        }
    }

    #[test]
    fn bounds_are_named_in_the_error() {
        assert!(check(info("p", "1"), handlers(MAX_HANDLERS)).is_ok());
        assert_eq!(
            check(info("p", "1"), handlers(MAX_HANDLERS + 1)).unwrap_err(),
            "plugin 'p' announces 257 handlers; the limit is 256"
        );
        assert_eq!(
            check(info("p", &"1".repeat(1 << 20)), handlers(1)).unwrap_err(),
            "the version of plugin 'p' is 1048576 bytes; the limit is 128 bytes"
        );
        let mut long = handlers(1);
        long.handlers[0].description = "d".repeat(MAX_DESCRIPTION_BYTES + 1);
        assert_eq!(
            check(info("p", "1"), long).unwrap_err(),
            "the description of handler 'h0' is 1025 bytes; the limit is 1024 bytes"
        );
        let mut twice = handlers(2);
        twice.handlers[1].name = "h0".into();
        assert_eq!(
            check(info("p", "1"), twice).unwrap_err(),
            "plugin 'p' announces handler 'h0' twice"
        );
    }

    #[test]
    fn a_schedule_interval_past_a_year_is_refused() {
        let mut registration = handlers(1);
        registration.schedules.push(types::ScheduleSpec {
            handler: "h0".into(),
            interval_seconds: u64::MAX,
            enabled: true,
            payload: String::new(),
        });
        assert_eq!(
            check(info("p", "1"), registration).unwrap_err(),
            "the schedule for 'p/h0' has an interval of 18446744073709551615 seconds; the limit \
             is 31622400 (366 days)"
        );
    }

    #[test]
    fn a_long_name_is_cut_in_the_message() {
        let error = check(info(&"A".repeat(1 << 20), "1"), handlers(0)).unwrap_err();
        assert!(error.len() < 300, "{error}");
    }
}
