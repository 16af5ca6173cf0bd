//! A running node: database, runtime, plugins and user handlers registered with Pulse, workers
//! and Pulse's services (lease renewal, rescue of jobs from dead nodes, cancellation), which
//! the [`Maintainer`] runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::clock::now_ms;
use crate::plugins::{self, LoadedPlugin};
use crate::pulse::triggers;
use crate::pulse::{
    self, AttemptIo, InFlight, Interruption, Maintainer, PrunerConfig, Registry, RescuerConfig,
    ResumerConfig, Wakeup, Worker, WorkerConfig, store,
};
use crate::runtime::{CompileStats, Runtime, RuntimeConfig};
use crate::storage::{self, Backend, Pool};
use crate::{error_chain, sqlite};

mod config;

/// Errors starting a node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] sqlite::Error),
    /// The engine could not be built.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::Error),
    /// A plugin directory could not be read.
    #[error(transparent)]
    Plugins(#[from] plugins::Error),
    /// The job store failed.
    #[error(transparent)]
    Pulse(#[from] pulse::Error),
    /// The store could not be reached.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// The user handlers could not be read.
    #[error(transparent)]
    Handlers(#[from] crate::handlers::Error),
    /// A thread could not be started.
    #[error("starting a node thread")]
    Thread(#[source] std::io::Error),
    /// The database cannot be written (the message names the file and the OS error).
    #[error("{0}")]
    Unwritable(String),
    /// A setting is out of bounds ([`NodeConfig::validate`]).
    #[error(transparent)]
    Config(#[from] pulse::ConfigError),
}

/// How to run a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Directories whose `.wasm` files are loaded as plugins.
    pub plugin_dirs: Vec<PathBuf>,
    /// Worker threads, each running one job at a time.
    pub workers: usize,
    /// Engine and sandbox settings.
    pub runtime: RuntimeConfig,
    /// Lease length, retry base, idle poll, handler limits, clock; the owner is filled in with
    /// the node's id.
    pub worker: WorkerConfig,
    /// When jobs of dead nodes are rescued.
    pub rescuer: RescuerConfig,
    /// When budget-paused jobs are resumed.
    pub resumer: ResumerConfig,
    /// When finished jobs are deleted.
    pub pruner: PrunerConfig,
    /// How long the node's database connections wait for another writer's lock.
    pub busy_timeout: Duration,
    /// A write-ahead log past this size that keeps growing is reported.
    pub wal_threshold: u64,
}

impl NodeConfig {
    /// Defaults: 2 workers, default runtime, worker and service settings, compiled components
    /// cached in `<data_dir>/cache/components`, [`sqlite::BUSY_TIMEOUT`], a 64 MiB WAL threshold.
    pub fn new(data_dir: PathBuf, plugin_dirs: Vec<PathBuf>) -> Self {
        Self {
            runtime: RuntimeConfig {
                cache_dir: Some(cache_dir(&data_dir)),
                data_dir: Some(data_dir.clone()),
                ..RuntimeConfig::default()
            },
            data_dir,
            plugin_dirs,
            workers: 2,
            worker: WorkerConfig::new(String::new()),
            rescuer: RescuerConfig::default(),
            resumer: ResumerConfig::default(),
            pruner: PrunerConfig::default(),
            busy_timeout: sqlite::BUSY_TIMEOUT,
            wal_threshold: sqlite::WalWatch::THRESHOLD,
        }
    }
}

/// Where a node on `data_dir` caches compiled components.
pub fn cache_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("cache").join("components")
}

/// A started node. Dropping it without [`Node::shutdown`] stops it with no grace period.
pub struct Node {
    id: String,
    runtime: Arc<Runtime>,
    plugins: Vec<LoadedPlugin>,
    refused: Vec<plugins::Error>,
    registry: Arc<Registry>,
    in_flight: Arc<InFlight>,
    wakeup: Arc<Wakeup>,
    /// Connections for the node's own short reads and writes.
    store: Pool,
    threads: Vec<JoinHandle<()>>,
    /// How long writes may fail before `wait_until_idle` gives up: the lease, after which the
    /// node's claims are forfeit anyway.
    fault_patience: Duration,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id)
            .field("plugins", &self.plugins)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Open the database, start workers, load and register plugins and user handlers
    /// (`handler/NAME`), and start the thread that follows handler changes. Each plugin's
    /// handlers are served as soon as it has loaded (see [`plugins::load_all_serving`]); this
    /// returns once every plugin file has loaded or been refused.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when [`NodeConfig::validate`] refuses a setting; [`Error`] when the
    /// database, engine or a plugin directory fails. A plugin file that is refused does not
    /// stop the node: see [`Node::refused`].
    pub fn start(config: NodeConfig) -> Result<Self, Error> {
        config.validate()?;
        let backend = sqlite::SqliteBackend::open_in(&config.data_dir)?
            .with_limits(config.busy_timeout, config.wal_threshold);
        Self::start_on(config, Arc::new(backend))
    }

    /// [`Node::start`] on `backend`, the store of `config.data_dir`.
    ///
    /// # Errors
    ///
    /// As [`Node::start`].
    pub fn start_on(config: NodeConfig, backend: Arc<dyn Backend>) -> Result<Self, Error> {
        let id = format!("node-{}", ulid::Ulid::new());
        let runtime = Arc::new(Runtime::new(config.runtime.clone())?);
        let files = plugins::discover(&config.plugin_dirs)?;
        let registry = Arc::new(Registry::new());
        registry.set_loading(true);
        let in_flight = Arc::new(InFlight::default());
        let wakeup = Arc::new(Wakeup::default());
        let workers = config.workers.max(1);
        let worker_config = WorkerConfig {
            owner: id.clone(),
            workers,
            ..config.worker.clone()
        };
        let mut threads = Vec::new();
        // Workers run before any plugin has loaded: each plugin's handlers are served as soon
        // as it registers, whatever the others' `initialize` still takes. Each worker commits
        // and claims on its own connection (the backend queues writers); what the jobs they run
        // read and write while they run goes through connections of a pool of their own.
        let attempts = AttemptIo::pooled(&Pool::new(backend.clone(), workers * 2));
        for index in 0..workers {
            let worker = Worker::new(
                backend.connect()?,
                attempts.clone(),
                registry.clone(),
                in_flight.clone(),
                wakeup.clone(),
                worker_config.clone(),
            );
            let wakeup = wakeup.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("qntx-worker-{index}"))
                    .spawn(move || worker.run(&wakeup))
                    .map_err(Error::Thread)?,
            );
        }
        // The services: one pass now, so that what is rescued or resumed at start is runnable
        // before `wait_until_idle` first looks; then their threads, which renew the leases of
        // jobs claimed while plugins still load.
        let services = pulse::MaintainerConfig {
            rescuer: config.rescuer.clone(),
            resumer: config.resumer.clone(),
            pruner: config.pruner.clone(),
            clock: config.worker.clock.clone(),
            ..pulse::MaintainerConfig::new(id.clone(), config.worker.lease)
        };
        let maintainer = Maintainer::for_node(
            &*backend,
            registry.clone(),
            in_flight.clone(),
            wakeup.clone(),
            &services,
        )?;
        threads.extend(maintainer.start().map_err(Error::Thread)?);
        let mut node = Self {
            id,
            runtime,
            plugins: Vec::new(),
            refused: Vec::new(),
            registry,
            in_flight,
            wakeup,
            store: Pool::new(backend, 2),
            threads,
            fault_patience: config.worker.lease,
        };
        // On an error the node is dropped, which stops its threads.
        let handlers = node.load(&files)?;
        node.threads
            .push(handlers.spawn(node.wakeup.clone()).map_err(Error::Thread)?);
        tracing::info!(node = %node.id, plugins = node.plugins.len(), handlers = node.registry.names().len(), workers = config.workers, "node started");
        let stats = node.runtime.compile_stats();
        tracing::info!(
            compiled = stats.compiled,
            from_cache = stats.cached,
            rebuilt = stats.rejected,
            "plugins compiled"
        );
        Ok(node)
    }

    /// Load the plugin `files` and the user handlers side by side, serving each plugin as soon
    /// as it has loaded; return once every file has loaded or been refused.
    fn load(&mut self, files: &[PathBuf]) -> Result<crate::handlers::Discovery, Error> {
        let failed = std::sync::Mutex::new(None);
        let (catalog, handlers) = std::thread::scope(|scope| {
            let handlers = scope.spawn(|| -> Result<_, Error> {
                Ok(crate::handlers::Discovery::start(
                    self.runtime.clone(),
                    self.registry.clone(),
                    self.store.clone(),
                    self.store
                        .backend()
                        .connect()
                        .map_err(crate::handlers::Error::from)?,
                )?)
            });
            let catalog = plugins::load_all_serving(&self.runtime, files, &self.store, |plugin| {
                if let Err(error) = self.serve(plugin) {
                    tracing::error!(plugin = %plugin.name, error = %error_chain(&error), "could not serve plugin");
                    failed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(error);
                }
            });
            let handlers = handlers
                .join()
                .expect("loading user handlers does not panic");
            (catalog, handlers)
        });
        self.registry.set_loading(false);
        self.wakeup.notify();
        if let Some(error) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(error);
        }
        let handlers = handlers?;
        self.store
            .with(|conn| conn.plugin_load_save_all(&catalog.records))
            .map_err(plugins::Error::Records)?;
        self.plugins = catalog.plugins;
        self.refused = catalog.refused;
        Ok(handlers)
    }

    /// Store a loaded plugin's triggers and handler rows, register its handlers with the
    /// workers, and record that this node serves them (`qntx job show` names serving nodes;
    /// the heartbeat service renews the record only every third of a lease).
    fn serve(&self, plugin: &LoadedPlugin) -> Result<(), Error> {
        let now = now_ms();
        self.store.with(|conn| {
            triggers::sync_plugin(conn, &plugin.name, &plugin.schedules, &plugin.watchers, now)
        })?;
        self.store.with(|conn| {
            for (handler, description) in &plugin.handlers {
                let record = store::HandlerRecord {
                    handler: plugin.handler_name(handler),
                    plugin: plugin.name.clone(),
                    plugin_version: plugin.version.clone(),
                    description: description.clone(),
                    registered_at: now,
                };
                store::register_handler(&**conn, &record).map_err(|error| {
                    Error::Unwritable(format!("registering handlers: {}", conn.explain(&error)))
                })?;
            }
            Ok::<_, Error>(())
        })?;
        plugin.register(&self.runtime, &self.registry);
        self.wakeup.notify();
        let lease_ms = crate::clock::millis(self.fault_patience);
        let names = self.registry.names();
        let recorded = self.store.with(|conn| {
            pulse::nodes::heartbeat(&**conn, &self.id, lease_ms, &names, now)
                .map_err(|error| conn.explain(&error))
                .map_err(Error::Unwritable)
        });
        if let Err(error) = recorded {
            tracing::warn!(error = %error_chain(&error), "could not record the handlers this node serves");
        }
        Ok(())
    }

    /// This node's id, the owner of its leases.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How the plugins' components were compiled or loaded from the cache.
    pub fn compile_stats(&self) -> CompileStats {
        self.runtime.compile_stats()
    }

    /// The plugins that loaded.
    pub fn plugins(&self) -> &[LoadedPlugin] {
        &self.plugins
    }

    /// The plugin files refused, with reasons.
    pub fn refused(&self) -> &[plugins::Error] {
        &self.refused
    }

    /// The handlers registered with Pulse.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Wake idle workers now (after an enqueue in this process).
    pub fn notify(&self) {
        self.wakeup.notify();
    }

    /// Block until no job for this node's handlers is runnable or running (here or on another
    /// node: a dead node's jobs are waited for until the rescuer requeues and this node runs
    /// them), no worker is busy, and every watcher has examined every attestation. Returns what
    /// remains scheduled for later.
    ///
    /// # Errors
    ///
    /// [`Error::Pulse`] when the database fails; [`Error::Unwritable`] when the node's writes
    /// have failed for a whole lease (jobs it could not finish stay `running` until their
    /// lease expires; a node that can write then rescues them).
    pub fn wait_until_idle(&self) -> Result<store::Activity, Error> {
        let handlers = self.registry.names();
        loop {
            if let Some((failing, why)) = self.in_flight.fault()
                && failing >= self.fault_patience
            {
                return Err(Error::Unwritable(format!(
                    "the node's database writes have failed for {} s: {why}",
                    failing.as_secs()
                )));
            }
            let before = self.in_flight.quiet_marker();
            if before.is_none() {
                // A worker is busy: no need to ask the database (and hold the workers'
                // connection) until they are quiet.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            // Watchers first: what they fire is enqueued with their cursor, so caught-up
            // watchers mean their jobs are visible to the count that follows.
            let behind = self
                .store
                .with(|conn| triggers::store::watchers_behind(conn.store()))?;
            let activity = self
                .store
                .with(|conn| store::activity(conn.store(), &handlers, now_ms()))?;
            let after = self.in_flight.quiet_marker();
            if !behind
                && activity.runnable == 0
                && activity.running == 0
                && before.is_some()
                && before == after
            {
                return Ok(activity);
            }
            self.wakeup.notify();
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stop claiming, let running jobs finish for up to `grace`, then interrupt the rest (their
    /// attempts go back to the queue uncounted) and join every thread.
    pub fn shutdown(mut self, grace: Duration) {
        self.stop(grace);
    }

    fn stop(&mut self, grace: Duration) {
        self.wakeup.stop();
        let deadline = Instant::now() + grace;
        while !self.in_flight.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !self.in_flight.is_empty() {
            tracing::warn!(
                jobs = self.in_flight.len(),
                "grace period over: returning running jobs to the queue"
            );
        }
        // Also the jobs of a batch that a worker starts after this: it may have claimed them
        // before it saw the node stop.
        self.in_flight.interrupt_all(Interruption::Shutdown);
        for thread in self.threads.drain(..) {
            let _joined = thread.join();
        }
        let stopped = self
            .store
            .with(|conn| pulse::nodes::stopped(&**conn, &self.id, now_ms()));
        if let Err(error) = stopped {
            tracing::warn!(error = %error_chain(&error), "could not record that the node stopped");
        }
        tracing::info!(node = %self.id, "node stopped");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop(Duration::ZERO);
        }
    }
}
