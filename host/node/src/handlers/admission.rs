//! Whether a job may be enqueued for a handler: the refusal of handlers no one serves, which
//! every front end applies before it enqueues (`qntx job enqueue` unless
//! `--allow-unregistered`).

use std::path::PathBuf;

use super::lifecycle::user_handler_servable;
use crate::plugins::{self, Catalog};
use crate::pulse::store;
use crate::storage::Store;

/// Where [`check_enqueue`] finds the plugins no node has registered yet. It asks only when the
/// database does not already know the handler.
pub trait PluginSource {
    /// The plugin directories.
    ///
    /// # Errors
    ///
    /// When they cannot be found or made.
    fn dirs(&self) -> anyhow::Result<Vec<PathBuf>>;

    /// Load plugin files that no node has recorded (running their `initialize` once), to learn
    /// what they announce.
    ///
    /// # Errors
    ///
    /// When no runtime or scratch store can be made for them; a file that is refused is in
    /// [`Catalog::refused`], not an error.
    fn load(&self, files: &[PathBuf]) -> anyhow::Result<Catalog>;
}

/// Why a job for a handler is refused, or why the check could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// No node registered the handler and no plugin in the plugin directories announces it.
    #[error(
        "no plugin announces handler '{handler}'; {}\n\
         hint: build the plugin into the plugin directory (qntx plugin build), or pass \
         --allow-unregistered to enqueue for a plugin that is not loaded yet",
        listing(known)
    )]
    Unannounced {
        /// The handler asked for.
        handler: String,
        /// Every handler that is known, sorted.
        known: Vec<String>,
    },
    /// A user handler (`handler/NAME`) that has no current version, or a bad name.
    #[error(transparent)]
    Handler(#[from] super::Error),
    /// The registrations could not be read.
    #[error(transparent)]
    Pulse(#[from] crate::pulse::Error),
    /// The plugin files could not be listed.
    #[error(transparent)]
    Plugins(#[from] plugins::Error),
    /// What the loads found could not be recorded.
    #[error(transparent)]
    Records(#[from] crate::storage::Error),
    /// The [`PluginSource`] failed.
    #[error(transparent)]
    Source(#[from] anyhow::Error),
}

fn listing(known: &[String]) -> String {
    if known.is_empty() {
        "no handlers are known yet".to_owned()
    } else {
        format!("known handlers: {}", known.join(", "))
    }
}

/// Refuse `handler` unless someone serves it: a user handler with a current version, a handler
/// a node registered, or one that a plugin in the plugin directories announces (by what nodes
/// recorded of the files as they are now; files no node has loaded are loaded through
/// `plugins`, and what they gave is recorded).
///
/// # Errors
///
/// [`EnqueueError::Unannounced`] naming the known handlers, [`EnqueueError::Handler`] for a
/// user handler that is missing or removed, and the failures of the store and of `plugins`.
pub fn check_enqueue(
    records: &dyn Store,
    handler: &str,
    plugins: &dyn PluginSource,
) -> Result<(), EnqueueError> {
    if user_handler_servable(records, handler)? {
        return Ok(());
    }
    if store::registered_handler(records, handler)?.is_some() {
        return Ok(());
    }
    let mut known = store::registered_handler_names(records)?;
    let mut unrecorded = Vec::new();
    for entry in plugins::listing::list(records, &plugins.dirs()?)? {
        match entry.state {
            plugins::listing::State::Loaded(record) => {
                let plugin = record.name.unwrap_or_default();
                known.extend(record.handlers.iter().map(|(h, _)| format!("{plugin}/{h}")));
            }
            plugins::listing::State::NeverLoaded => unrecorded.push(entry.path),
            _ => {}
        }
    }
    if !unrecorded.is_empty() {
        let catalog = plugins.load(&unrecorded)?;
        records.plugin_load_save_all(&catalog.records)?;
        for plugin in catalog.plugins {
            for (name, _) in &plugin.handlers {
                known.push(plugin.handler_name(name));
            }
        }
    }
    if known.iter().any(|name| name == handler) {
        return Ok(());
    }
    known.sort();
    known.dedup();
    Err(EnqueueError::Unannounced {
        handler: handler.to_owned(),
        known,
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::handlers::{NewVersion, record_version};

    /// Plugin directories that hold no plugin, counting what is asked of them.
    struct NoPlugins {
        dir: PathBuf,
        asked: Cell<usize>,
    }

    impl PluginSource for NoPlugins {
        fn dirs(&self) -> anyhow::Result<Vec<PathBuf>> {
            self.asked.set(self.asked.get() + 1);
            Ok(vec![self.dir.clone()])
        }

        fn load(&self, _: &[PathBuf]) -> anyhow::Result<Catalog> {
            anyhow::bail!("an empty directory has nothing to load")
        }
    }

    #[test]
    fn a_handler_no_one_serves_is_refused_with_the_known_ones_named() {
        let backend = crate::sqlite::SqliteBackend::temporary().unwrap();
        let store = backend.connection().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let source = NoPlugins {
            dir: dir.path().to_owned(),
            asked: Cell::new(0),
        };
        let refused = check_enqueue(&store, "text/stats", &source).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "no plugin announces handler 'text/stats'; no handlers are known yet\n\
             hint: build the plugin into the plugin directory (qntx plugin build), or pass \
             --allow-unregistered to enqueue for a plugin that is not loaded yet"
        );
        assert_eq!(source.asked.get(), 1);

        store::register_handler(
            &store,
            &store::HandlerRecord {
                handler: "text/words".into(),
                plugin: "text".into(),
                plugin_version: "1.0.0".into(),
                description: String::new(),
                registered_at: 1,
            },
        )
        .unwrap();
        check_enqueue(&store, "text/words", &source).unwrap();
        let refused = check_enqueue(&store, "text/stats", &source).unwrap_err();
        assert!(
            refused.to_string().starts_with(
                "no plugin announces handler 'text/stats'; known handlers: text/words\n"
            ),
            "{refused}"
        );

        // A user handler is checked on its own records, without the plugin directories.
        let asked = source.asked.get();
        assert!(matches!(
            check_enqueue(&store, "handler/h", &source),
            Err(EnqueueError::Handler(super::super::Error::NotFound(_)))
        ));
        record_version(
            &store,
            &NewVersion {
                name: "h",
                sha256: "aa",
                size: 1,
                language: "wasm",
                source: "",
                wit_version: crate::runtime::WORLD,
                description: "",
                rolled_back_from: None,
            },
            2,
        )
        .unwrap();
        check_enqueue(&store, "handler/h", &source).unwrap();
        assert_eq!(source.asked.get(), asked);
    }
}
