//! Serving user handlers on a node: register every current handler at start, then follow new
//! versions, rollbacks and removals while the node runs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::{Error, check_name, current, job_handler, newest_of_all, registered_name, store};
use crate::error_chain;
use crate::pulse::{Registered, Registry, SharedConnection, Wakeup};
use crate::runtime::Runtime;

/// How often a running node looks for new handler attestations. With the time to load a
/// small component, a new version serves jobs well within a second.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The user handlers a node serves, and where it is in the attestation log.
pub struct Discovery {
    runtime: Arc<Runtime>,
    registry: Arc<Registry>,
    shared: SharedConnection,
    db: Connection,
    served: BTreeMap<String, String>,
    /// The version each handler served before its current one, kept compiled so that a
    /// rollback is served at once.
    previous: BTreeMap<String, Registered>,
    last_seq: i64,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("served", &self.served)
            .field("last_seq", &self.last_seq)
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// Register every current handler in `registry` as `handler/NAME`. `db` is this
    /// discovery's own connection; `shared` is the one guests read through at `initialize`.
    /// A handler that fails to load is logged and skipped.
    ///
    /// # Errors
    ///
    /// [`Error`] when the database fails.
    pub fn start(
        runtime: Arc<Runtime>,
        registry: Arc<Registry>,
        shared: SharedConnection,
        db: Connection,
    ) -> Result<Self, Error> {
        // Read the position first: a change made while loading is seen by the next poll.
        let last_seq = store::last_seq(&db)?;
        let names: Vec<String> = newest_of_all(&db)?.into_keys().collect();
        let mut discovery = Self {
            runtime,
            registry,
            shared,
            db,
            served: BTreeMap::new(),
            previous: BTreeMap::new(),
            last_seq,
        };
        for name in names {
            discovery.sync(&name);
        }
        Ok(discovery)
    }

    /// The handlers served, with the sha256 of each one's version.
    pub fn served(&self) -> &BTreeMap<String, String> {
        &self.served
    }

    /// Apply the handler attestations stored since the last poll.
    ///
    /// # Errors
    ///
    /// [`Error`] when the database fails.
    pub fn poll(&mut self) -> Result<(), Error> {
        let (names, last) = store::changed_since(&self.db, self.last_seq)?;
        self.last_seq = last;
        for name in names {
            self.sync(&name);
        }
        Ok(())
    }

    /// Poll every [`POLL_INTERVAL`] on a thread of its own until the node stops.
    ///
    /// # Errors
    ///
    /// When the thread cannot be started.
    pub fn spawn(mut self, wakeup: Arc<Wakeup>) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("qntx-handlers".into())
            .spawn(move || {
                while !wakeup.is_stopping() {
                    if let Err(error) = self.poll() {
                        tracing::warn!(error = %error_chain(&error), "looking for handler changes failed");
                    }
                    std::thread::sleep(POLL_INTERVAL);
                }
            })
    }

    /// Make the registration of `name` match its newest attestation. A job already running
    /// keeps the version it started with (it holds its own reference to it).
    fn sync(&mut self, name: &str) {
        if check_name(name).is_err() {
            return;
        }
        let handler = registered_name(name);
        let wanted = match current(&self.db, name) {
            Ok(wanted) => wanted,
            Err(error) => {
                tracing::warn!(handler, error = %error_chain(&error), "reading handler failed");
                return;
            }
        };
        let Some(version) = wanted else {
            if self.served.remove(name).is_some() {
                if let Some(replaced) = self.registry.get(&handler) {
                    self.previous.insert(name.to_owned(), replaced);
                }
                self.registry.unregister(&handler);
                tracing::info!(handler, "handler removed");
            }
            return;
        };
        if self.served.get(name) == Some(&version.sha256) {
            return;
        }
        let started = Instant::now();
        let kept = self
            .previous
            .remove(name)
            .filter(|previous| previous.version == version.sha256);
        let loaded = match kept {
            Some(registered) => Ok(registered),
            None => job_handler(&self.runtime, &self.db, &self.shared, &version),
        };
        match loaded {
            Ok(registered) => {
                if let Some(replaced) = self.registry.get(&handler) {
                    self.previous.insert(name.to_owned(), replaced);
                }
                self.registry.register(registered);
                self.served.insert(name.to_owned(), version.sha256.clone());
                tracing::info!(handler, sha256 = %version.sha256, language = %version.language, load_ms = started.elapsed().as_millis() as u64, "handler registered");
            }
            Err(error) => {
                // The newest version wins: an older one is not served in its place.
                self.served.remove(name);
                self.registry.unregister(&handler);
                tracing::warn!(handler, sha256 = %version.sha256, error = %error_chain(&error), "handler refused");
            }
        }
    }
}
