//! Who an actor is. People (and anything else the CLI speaks for) use plain names; what the
//! node writes on behalf of code carries a reserved prefix, so that no person can be mistaken
//! for a plugin or a handler, nor speak as one:
//!
//! | actor | who |
//! |---|---|
//! | `plugin:NAME` | the plugin `NAME`, stamped by the node on everything it attests |
//! | `handler:NAME` | the user handler `NAME` (its attestations and its version records) |
//! | `system:…` | reserved for the node itself |
//! | anything else | a person or a tool, via `qntx as` |
//!
//! Prefixes are matched case-insensitively, like queries: `Plugin:text` is as reserved as
//! `plugin:text`.

/// The prefix of a plugin's actor.
pub const PLUGIN_PREFIX: &str = "plugin:";
/// The prefix of a user handler's actor.
pub const HANDLER_PREFIX: &str = "handler:";
/// The prefix reserved for the node's own writes.
pub const SYSTEM_PREFIX: &str = "system:";
/// Every reserved prefix.
pub const RESERVED_PREFIXES: [&str; 3] = [PLUGIN_PREFIX, HANDLER_PREFIX, SYSTEM_PREFIX];

/// The actor of plugin `name`: `plugin:NAME`.
pub fn plugin(name: &str) -> String {
    format!("{PLUGIN_PREFIX}{name}")
}

/// The actor of user handler `name`: `handler:NAME`.
pub fn handler(name: &str) -> String {
    format!("{HANDLER_PREFIX}{name}")
}

/// The reserved prefix `actor` starts with, if any (case-insensitive).
pub fn reserved_prefix(actor: &str) -> Option<&'static str> {
    RESERVED_PREFIXES.into_iter().find(|prefix| {
        actor
            .trim_start()
            .get(..prefix.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
    })
}

/// Refuse an actor that a person may not use.
///
/// # Errors
///
/// A message naming the actor and its reserved prefix.
pub fn check_person(actor: &str) -> Result<(), String> {
    match reserved_prefix(actor) {
        Some(prefix) => Err(format!(
            "actor '{actor}' uses the reserved prefix '{prefix}': actors starting with \
             'plugin:', 'handler:' or 'system:' are written only by the node for its plugins, \
             user handlers and itself"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_prefixes_are_refused_whatever_their_case() {
        assert_eq!(plugin("text"), "plugin:text");
        assert_eq!(handler("word-freq"), "handler:word-freq");
        for actor in [
            "plugin:text",
            "Plugin:text",
            " HANDLER:x",
            "system:",
            "SyStEm:node",
        ] {
            assert!(check_person(actor).is_err(), "{actor}");
        }
        for actor in ["alice", "text", "plugin", "plugins:x", "my plugin:x", "é"] {
            assert!(check_person(actor).is_ok(), "{actor}");
        }
        assert!(
            check_person("plugin:text")
                .unwrap_err()
                .contains("reserved prefix 'plugin:'")
        );
    }
}
