//! Serving user handlers on a node: register every current handler at start, then follow new
//! versions, rollbacks and removals while the node runs.
//!
//! One thread polls the attestation log; each new version compiles on a thread of its own, so
//! a large component (a Python handler compiles for tens of seconds) delays only itself. A
//! version is registered only if it is still the one wanted when its compilation ends.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{
    Error, HandlerVersion, check_name, component_bytes, current, job_handler, newest_of_all,
    registered_name, store,
};
use crate::ats::feed::Feed;
use crate::error_chain;
use crate::pulse::{Registered, Registry, Wakeup};
use crate::runtime::Runtime;
use crate::storage::Connection;
use crate::storage::Pool;

/// How often a running node looks for new handler attestations. With the time to load a
/// small component, a new version serves jobs well within a second.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The user handlers a node serves, and where it is in the attestation feed.
pub struct Discovery {
    inner: Arc<Inner>,
    db: Box<dyn Connection>,
    feed: Feed,
    loaders: Vec<JoinHandle<()>>,
}

struct Inner {
    runtime: Arc<Runtime>,
    registry: Arc<Registry>,
    shared: Pool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The sha256 each handler's newest attestation asks for (`None`: removed).
    wanted: BTreeMap<String, Option<String>>,
    /// The sha256 registered for each handler.
    served: BTreeMap<String, String>,
    /// The version each handler served before, kept compiled so that a rollback is instant.
    previous: BTreeMap<String, Registered>,
    /// Versions being compiled.
    loading: BTreeSet<(String, String)>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("served", &self.inner.lock().served)
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// Register every current handler in `registry` as `handler/NAME`, before returning.
    /// `db` is this discovery's own connection; `shared` is the one guests read through at
    /// `initialize`. A handler that fails to load is logged and skipped.
    ///
    /// # Errors
    ///
    /// [`Error`] when the database fails.
    pub fn start(
        runtime: Arc<Runtime>,
        registry: Arc<Registry>,
        shared: Pool,
        db: Box<dyn Connection>,
    ) -> Result<Self, Error> {
        // Read the position first: a change made while loading is seen by the next poll.
        let feed = Feed::from_now(db.store())?;
        let names: Vec<String> = newest_of_all(db.store())?.into_keys().collect();
        let mut discovery = Self {
            inner: Arc::new(Inner {
                runtime,
                registry,
                shared,
                state: Mutex::new(State::default()),
            }),
            db,
            feed,
            loaders: Vec::new(),
        };
        for name in names {
            discovery.sync(&name, false);
        }
        Ok(discovery)
    }

    /// The handlers served, with the sha256 of each one's version.
    pub fn served(&self) -> BTreeMap<String, String> {
        self.inner.lock().served.clone()
    }

    /// Apply the handler attestations stored since the last poll; new versions compile in the
    /// background.
    ///
    /// # Errors
    ///
    /// [`Error`] when the database fails.
    pub fn poll(&mut self) -> Result<(), Error> {
        let names = store::changed(self.db.store(), &mut self.feed)?;
        for name in names {
            self.sync(&name, true);
        }
        self.loaders.retain(|loader| !loader.is_finished());
        Ok(())
    }

    /// Poll every 200 ms (`POLL_INTERVAL`) on a thread of its own until the node stops; then
    /// wait for compilations in progress.
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
                for loader in self.loaders.drain(..) {
                    let _joined = loader.join();
                }
            })
    }

    /// Make the registration of `name` follow its newest attestation. A job already running
    /// keeps the version it started with (it holds its own reference to it).
    fn sync(&mut self, name: &str, background: bool) {
        if check_name(name).is_err() {
            return;
        }
        let handler = registered_name(name);
        let version = match current(self.db.store(), name) {
            Ok(version) => version,
            Err(error) => {
                tracing::warn!(handler, error = %error_chain(&error), "reading handler failed");
                return;
            }
        };
        let mut state = self.inner.lock();
        state
            .wanted
            .insert(name.to_owned(), version.as_ref().map(|v| v.sha256.clone()));
        let Some(version) = version else {
            if state.served.remove(name).is_some() {
                if let Some(replaced) = self.inner.registry.get(&handler) {
                    state.previous.insert(name.to_owned(), replaced);
                }
                self.inner.registry.unregister(&handler);
                tracing::info!(handler, "handler removed");
            }
            return;
        };
        let sha = version.sha256.clone();
        if state.served.get(name) == Some(&sha)
            || !state.loading.insert((name.to_owned(), sha.clone()))
        {
            return;
        }
        let kept = state
            .previous
            .get(name)
            .filter(|previous| previous.version == sha)
            .cloned();
        drop(state);
        if let Some(registered) = kept {
            self.inner.install(&version, Ok(registered), Instant::now());
            return;
        }
        let bytes = match component_bytes(self.db.store(), &version) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.inner.install(&version, Err(error), Instant::now());
                return;
            }
        };
        let inner = self.inner.clone();
        let load = move || {
            let started = Instant::now();
            let loaded = job_handler(&inner.runtime, &inner.shared, &version, &bytes);
            inner.install(&version, loaded, started);
        };
        if !background {
            load();
            return;
        }
        match std::thread::Builder::new()
            .name("qntx-handler-load".into())
            .spawn(load)
        {
            Ok(loader) => self.loaders.push(loader),
            Err(error) => {
                tracing::warn!(handler, error = %error, "cannot start a thread to load the handler");
                self.inner.lock().loading.remove(&(name.to_owned(), sha));
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a loaded version if it is still the one wanted.
    fn install(
        &self,
        version: &HandlerVersion,
        loaded: Result<Registered, Error>,
        started: Instant,
    ) {
        let name = &version.name;
        let handler = registered_name(name);
        let mut state = self.lock();
        state
            .loading
            .remove(&(name.clone(), version.sha256.clone()));
        if state.wanted.get(name) != Some(&Some(version.sha256.clone())) {
            tracing::debug!(handler, sha256 = %version.sha256, "a newer change superseded this version");
            return;
        }
        match loaded {
            Ok(registered) => {
                if let Some(replaced) = self.registry.get(&handler) {
                    state.previous.insert(name.clone(), replaced);
                }
                self.registry.register(registered);
                state.served.insert(name.clone(), version.sha256.clone());
                tracing::info!(handler, sha256 = %version.sha256, language = %version.language, load_ms = started.elapsed().as_millis() as u64, "handler registered");
            }
            Err(error) => {
                // The newest version wins: an older one is not served in its place.
                state.served.remove(name);
                self.registry.unregister(&handler);
                tracing::warn!(handler, sha256 = %version.sha256, error = %error_chain(&error), "handler refused");
            }
        }
    }
}
