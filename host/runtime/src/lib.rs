//! The plugin runtime: every plugin and user handler runs as a WebAssembly component in a
//! wasmtime sandbox, with no authority except what the host links in.
//!
//! One [`Runtime`] per node holds the `Engine` (component model, pooling allocator, epoch
//! interruption driven by one ticker thread). Each job runs in a **fresh `Store` and instance**
//! built from the plugin's shared `InstancePre`, with a [`JobCtx`] that denies by default: no
//! files, no network, no environment; stdout and stderr captured into the job log; memory, time
//! and output bounded by [`Limits`]; a plugin's manifest adds [`Grants`] and may lower the
//! limits. A trap ends that job only. Guests are called asynchronously, each call driven on the
//! calling thread and raced against its deadline and interrupt (`drive.rs`), so a guest waiting
//! in a host call stops on time too. Compiled components are cached on disk (see `cache.rs`).
//!
//! `host/` holds one file per WIT interface; [`PluginHandler`] turns a Pulse job into an
//! `execute-job` call and the guest's effects into an [`crate::pulse::Execution`].

#![warn(missing_docs)]

use qntx_core::{ats, clock, error_chain, pulse};

mod bindings;
mod cache;
mod drive;
mod engine;
mod error;
mod execute;
mod grants;
mod guest_exception;
mod host;
mod job_ctx;
mod limits;
mod linker;
mod output;
mod slots;
mod traps;

pub use bindings::{COMPATIBLE_VERSIONS, PACKAGE, VERSION, WORLD};
pub use engine::{CompileStats, MAX_WASM_STACK, Runtime, RuntimeConfig};
pub use error::{Error, Result};
pub use execute::PluginHandler;
pub use grants::{DirGrant, Grants};
pub use job_ctx::{Identity, JobCtx};
pub use limits::{Limits, MAX_MEMORIES_PER_COMPONENT, MAX_TABLES_PER_COMPONENT};
pub use traps::SANDBOX_TRAPS;

pub use bindings::{PluginPre, types};
pub use drive::block_on;
pub use execute::initialize;
pub use limits::mib;
pub use linker::{new_linker, refuse_import};
