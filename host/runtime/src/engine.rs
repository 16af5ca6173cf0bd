//! The node's one wasmtime `Engine` and the thread that drives epoch interruption.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::cache::{ComponentCache, Lookup};
use super::limits::{MAX_MEMORIES_PER_COMPONENT, MAX_TABLES_PER_COMPONENT};
use super::{Error, Limits, Result};

/// The wasm stack of a guest call: deep recursion traps as a stack overflow at this depth,
/// well before the host's own stack is at risk.
pub const MAX_WASM_STACK: usize = 1 << 20;

/// The stack in linear memory ("shadow stack") of guests that `qntx` builds
/// (`-zstack-size=65536`, see `toolchain/cargo.rs`): locals too big for the wasm stack live there,
/// and overflowing it is an out-of-bounds access, not a stack overflow trap.
pub(crate) const SHADOW_STACK_BYTES: usize = 64 << 10;

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
    /// Meter fuel, so that [`Limits::fuel`] is enforced. It slows every guest (up to about 3x
    /// on call-heavy code), so it is off by default: the wall-clock timeout bounds every job.
    pub fuel: bool,
    /// Where compiled components are cached; `None` compiles every component at every load.
    pub cache_dir: Option<PathBuf>,
    /// The node's data directory (its `qntx.toml`, its compile cache, on SQLite its
    /// database), which no writable grant may reach, whatever the backend.
    pub data_dir: Option<PathBuf>,
}

impl Default for RuntimeConfig {
    /// Default limits, pooling on with 128 instances, a 10 ms epoch tick, no fuel metering,
    /// no compile cache.
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            pooling: true,
            max_instances: 128,
            epoch_tick: Duration::from_millis(10),
            fuel: false,
            cache_dir: None,
            data_dir: None,
        }
    }
}

/// How much of each freed memory the pooling allocator keeps resident, reset in place.
///
/// With PAGEMAP_SCAN (Linux 6.7+) only the pages a guest dirtied are copied back from the
/// image, so keeping 16 MiB costs a small guest nothing more than the scan (about 1 µs: 7 µs
/// per fresh no-op sandbox instead of 6) while interpreted handlers, which dirty megabytes per
/// job, stop faulting them in again (a JavaScript handler: 0.8 ms per job instead of 1.4 ms).
/// Without it the kept part is rewritten whole at every drop, so only 1 MiB is kept.
fn memory_kept_resident() -> usize {
    if pagemap_scan_available() {
        16 << 20
    } else {
        1 << 20
    }
}

/// Whether the kernel has PAGEMAP_SCAN (Linux 6.7 and later).
fn pagemap_scan_available() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .is_ok_and(|release| release_at_least(&release, (6, 7)))
}

/// Whether a kernel release such as `6.18.44-fc` is `major.minor` or later.
fn release_at_least(release: &str, wanted: (u32, u32)) -> bool {
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = numbers.next().unwrap_or(0);
    let minor = numbers.next().unwrap_or(0);
    (major, minor) >= wanted
}

/// How components were turned into code since the runtime started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileStats {
    /// Components compiled from wasm.
    pub compiled: usize,
    /// Components loaded from the compile cache.
    pub cached: usize,
    /// Cache entries refused (corrupt, tampered, or for another engine) and rebuilt.
    pub rejected: usize,
}

/// The engine and its epoch ticker; cheap to share behind an `Arc`.
pub struct Runtime {
    engine: Engine,
    config: RuntimeConfig,
    cache: Option<ComponentCache>,
    compiled: AtomicUsize,
    cached: AtomicUsize,
    rejected: AtomicUsize,
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
    /// allocator cannot reserve its address space); [`Error::Cache`] when the cache directory
    /// cannot be created.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(config.fuel)
            .max_wasm_stack(MAX_WASM_STACK)
            .parallel_compilation(true);
        if config.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let instances = config.max_instances;
            pool.total_component_instances(instances)
                // A Rust component has a handful of core instances (its module and shims).
                .total_core_instances(instances * 8)
                .total_memories(instances * 2)
                .total_tables(instances * 4)
                // A component with many core memories takes many slots: wasmtime refuses one
                // with more at compile time, naming both numbers (the memory limit bounds all
                // its memories together anyway, see `MemoryLimiter`).
                .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
                .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
                // Each call runs on a fiber stack (calls are async, see `drive.rs`).
                .total_stacks(instances)
                .max_memory_size(config.limits.memory_bytes)
                // A freed slot stays mapped and is reset in place. Decommitting tables made
                // every drop send an IPI to the other cores and every instance fault them in
                // again (13 µs per fresh sandbox instead of 6; two threads ran fewer sandboxes
                // than one), so 64 KiB of each table stays resident. Memories: see
                // `memory_kept_resident`.
                .linear_memory_keep_resident(memory_kept_resident())
                .table_keep_resident(64 << 10)
                .pagemap_scan(Enabled::Auto);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wasm).map_err(Error::Engine)?;
        let cache = config
            .cache_dir
            .as_ref()
            .map(|dir| {
                ComponentCache::open(dir, &engine).map_err(|source| Error::Cache {
                    dir: dir.clone(),
                    source,
                })
            })
            .transpose()?;
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
            cache,
            compiled: AtomicUsize::new(0),
            cached: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
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

    /// How many components were compiled, loaded from the cache, and rebuilt.
    pub fn compile_stats(&self) -> CompileStats {
        CompileStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            cached: self.cached.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// The component for `bytes`, whose sha256 (hex) is `sha256`: from the compile cache when
    /// it holds a verified entry, else compiled (and cached).
    ///
    /// # Errors
    ///
    /// What wasmtime says when `bytes` is not a valid component.
    pub fn compile(&self, bytes: &[u8], sha256: &str) -> wasmtime::Result<Component> {
        let Some(cache) = &self.cache else {
            self.compiled.fetch_add(1, Ordering::Relaxed);
            return Component::new(&self.engine, bytes);
        };
        match cache.load(&self.engine, sha256) {
            Lookup::Hit(component) => {
                self.cached.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%sha256, "component loaded from the compile cache");
                return Ok(component);
            }
            Lookup::Miss => {}
            Lookup::Rejected(reason) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%sha256, path = %cache.path(sha256).display(), %reason, "compile cache entry refused; compiling again");
            }
        }
        let component = Component::new(&self.engine, bytes)?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%sha256, "component compiled");
        if let Err(error) = cache.store(sha256, &component) {
            tracing::warn!(%sha256, error = %format!("{error:#}"), "could not write the compile cache");
        }
        Ok(component)
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

#[cfg(test)]
mod tests {
    use super::release_at_least;

    #[test]
    fn kernel_releases_compare_by_major_then_minor() {
        assert!(release_at_least("6.18.44-fc-v657", (6, 7)));
        assert!(release_at_least("6.7.0", (6, 7)));
        assert!(release_at_least("7.0", (6, 7)));
        assert!(!release_at_least("6.1.0-28-amd64", (6, 7)));
        assert!(!release_at_least("5.19.2", (6, 7)));
        assert!(!release_at_least("", (6, 7)));
    }
}
