//! The handlers a node can run, and the trait Pulse runs them through.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use super::handler::JobHandler;

/// A handler registered with Pulse.
#[derive(Clone)]
pub struct Registered {
    /// Full name, `<plugin>/<handler>`.
    pub handler: String,
    /// The plugin that announced it.
    pub plugin: String,
    /// The plugin's version, recorded on each job it runs.
    pub version: String,
    /// What it does.
    pub description: String,
    /// What runs its jobs.
    pub target: Arc<dyn JobHandler>,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("handler", &self.handler)
            .field("plugin", &self.plugin)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The node's handlers by full name. Workers claim jobs only for names in here.
#[derive(Debug, Default)]
pub struct Registry {
    handlers: RwLock<BTreeMap<String, Registered>>,
    /// More plugins may register soon: the node is still loading them.
    loading: AtomicBool,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register a handler; replaces an earlier registration of the same name.
    pub fn register(&self, registered: Registered) {
        self.write().insert(registered.handler.clone(), registered);
    }

    /// Remove one handler; a job already running keeps its own reference to it.
    pub fn unregister(&self, handler: &str) {
        self.write().remove(handler);
    }

    /// Remove every handler of `plugin`.
    pub fn unregister_plugin(&self, plugin: &str) {
        self.write().retain(|_, r| r.plugin != plugin);
    }

    /// Say whether the node is still loading plugins, which then count for fair shares
    /// ([`super::fair`]) before they register.
    pub fn set_loading(&self, loading: bool) {
        self.loading.store(loading, Ordering::SeqCst);
    }

    /// Whether the node is still loading plugins.
    pub fn is_loading(&self) -> bool {
        self.loading.load(Ordering::SeqCst)
    }

    /// The registration of `handler`.
    pub fn get(&self, handler: &str) -> Option<Registered> {
        self.read().get(handler).cloned()
    }

    /// Every registered name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// Every registration, sorted by name.
    pub fn all(&self) -> Vec<Registered> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Registered>> {
        // A panic while holding the lock leaves the map itself consistent.
        self.handlers.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Registered>> {
        self.handlers.write().unwrap_or_else(|e| e.into_inner())
    }
}
