//! What every request handler shares: the node it speaks for and connections to its store.

use std::path::PathBuf;
use std::sync::Arc;

use qntx_core::pulse::Period;
use qntx_core::storage::{Backend, Connection, Pool};
use qntx_node::metrics::Metrics;

use tokio::sync::OnceCell;

use crate::ApiError;
use crate::api::streams::{Attestations, JobEvents};
use crate::hub::Hub;

/// What a node tells its HTTP server about itself.
#[derive(Debug, Clone)]
pub struct NodeContext {
    /// The node's store.
    pub backend: Arc<dyn Backend>,
    /// The node's id, as in `qntx job show`'s "ran on".
    pub node_id: String,
    /// The node's plugin directories: an enqueue for a handler no node registered is checked
    /// against what was recorded of them.
    pub plugin_dirs: Vec<PathBuf>,
    /// The process's metrics recorder, served at `/metrics`; `None` serves 404 there.
    pub metrics: Option<&'static Metrics>,
    /// The node's compile cache, shared by the checks of uploaded components.
    pub cache_dir: Option<PathBuf>,
    /// Where compilers and build caches of handlers created from source live [default: the
    /// user's cache directory].
    pub toolchains: Option<PathBuf>,
    /// The node's settings file, where budgets set over HTTP are kept for restarts; `None`
    /// keeps them in the store only.
    pub settings: Option<Arc<dyn SettingsFile>>,
}

/// The settings file of a node, written as `qntx budget set` writes it.
pub trait SettingsFile: Send + Sync + std::fmt::Debug {
    /// Set (or, with `None`, remove) these budget limits in the file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, parsed or written.
    fn write_budget(&self, changes: &[(Period, Option<f64>)]) -> anyhow::Result<()>;
}

/// The state of the server, cheap to clone into each request.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    node: NodeContext,
    pool: Pool,
    job_events: OnceCell<Arc<Hub<JobEvents>>>,
    attestations: OnceCell<Arc<Hub<Attestations>>>,
}

/// Idle store connections kept for requests.
const IDLE_CONNECTIONS: usize = 4;

impl AppState {
    pub(crate) fn new(node: NodeContext) -> Self {
        let pool = Pool::new(node.backend.clone(), IDLE_CONNECTIONS);
        Self {
            inner: Arc::new(Inner {
                node,
                pool,
                job_events: OnceCell::new(),
                attestations: OnceCell::new(),
            }),
        }
    }

    pub(crate) fn node(&self) -> &NodeContext {
        &self.inner.node
    }

    /// Run `work` on a store connection on a blocking thread (the store's calls are
    /// synchronous), so that the server's threads keep serving.
    pub(crate) async fn store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Connection) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || state.inner.pool.with(work))
            .await
            .map_err(|error| ApiError::internal(&error))?
    }

    /// The node's job event feed, started by its first subscriber.
    pub(crate) async fn job_event_hub(&self) -> Result<Arc<Hub<JobEvents>>, ApiError> {
        let hub = self
            .inner
            .job_events
            .get_or_try_init(|| async { Hub::start(self.clone()).await.map(Arc::new) });
        hub.await.cloned()
    }

    /// The node's attestation feed, started by its first subscriber.
    pub(crate) async fn attestation_hub(&self) -> Result<Arc<Hub<Attestations>>, ApiError> {
        let hub = self
            .inner
            .attestations
            .get_or_try_init(|| async { Hub::start(self.clone()).await.map(Arc::new) });
        hub.await.cloned()
    }
}
