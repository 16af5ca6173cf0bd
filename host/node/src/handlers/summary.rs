//! Handler versions and history as JSON: what `qntx handler list/show --json` print and the
//! HTTP API answers.

use serde_json::Value;

use super::{Event, HandlerVersion, registered_name};

/// A version without its source: name, sha256, size, language, WIT version, description,
/// time, attestation and what a rollback replaced.
pub fn summary(version: &HandlerVersion) -> Value {
    serde_json::json!({
        "handler": registered_name(&version.name),
        "name": version.name,
        "sha256": version.sha256,
        "size": version.size,
        "language": version.language,
        "wit_version": version.wit_version,
        "description": version.description,
        "timestamp": version.timestamp,
        "attestation": version.attestation,
        "rolled_back_from": version.rolled_back_from,
    })
}

/// An entry of a handler's history: a version's [`summary`] with `"event": "version"`, or a
/// removal.
pub fn event_json(event: &Event) -> Value {
    match event {
        Event::Version(version) => {
            let mut json = summary(version);
            json["event"] = "version".into();
            json
        }
        Event::Removed { .. } => serde_json::to_value(event).unwrap_or_default(),
    }
}
