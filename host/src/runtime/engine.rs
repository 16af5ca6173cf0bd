//! The node's one wasmtime `Engine` and the thread that drives epoch interruption.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::{Error, Limits, Result};

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Default limits of each instance; a plugin's manifest may lower them.
    pub limits: Limits,
    /// Pre-allocate instance slots (fast instantiation). Off, instances are allocated on demand.
    pub pooling: bool,
    /// Instances alive at once (jobs in flight plus `initialize` calls), with pooling.
    pub max_instances: u32,
    /// How often the epoch advances: the precision of timeouts and cancellation.
    pub epoch_tick: Duration,
}

impl Default for RuntimeConfig {
    /// Default limits, pooling on with 128 instances, a 10 ms epoch tick.
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            pooling: true,
            max_instances: 128,
            epoch_tick: Duration::from_millis(10),
        }
    }
}

/// The engine and its epoch ticker; cheap to share behind an `Arc`.
pub struct Runtime {
    engine: Engine,
    config: RuntimeConfig,
    stop_ticker: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the engine and start the epoch ticker.
    ///
    /// # Errors
    ///
    /// [`Error::Engine`] when wasmtime rejects the configuration (for example, the pooling
    /// allocator cannot reserve its address space).
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            // A guest's deep recursion traps as a stack overflow well before the host's stack.
            .max_wasm_stack(1 << 20)
            .parallel_compilation(true);
        if config.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let instances = config.max_instances;
            pool.total_component_instances(instances)
                // A Rust component has a handful of core instances (its module and shims).
                .total_core_instances(instances * 8)
                .total_memories(instances * 2)
                .total_tables(instances * 4)
                .max_memory_size(config.limits.memory_bytes)
                // Keep a little of each freed memory mapped: cheaper reuse than re-faulting.
                .linear_memory_keep_resident(256 << 10);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wasm).map_err(Error::Engine)?;
        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.weak();
            let stop = stop_ticker.clone();
            let tick = config.epoch_tick;
            std::thread::Builder::new()
                .name("qntx-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        match engine.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => break,
                        }
                    }
                })
                .map_err(|e| Error::Engine(wasmtime::Error::new(e)))?
        };
        Ok(Self {
            engine,
            config,
            stop_ticker,
            ticker: Some(ticker),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _joined = ticker.join();
        }
    }
}
