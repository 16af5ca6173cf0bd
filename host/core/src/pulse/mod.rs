//! Pulse, the durable job system: the router between the node and every plugin (ADR-004).
//!
//! A [`Job`] names a handler (`<plugin>/<handler>` or `handler/<name>`) and carries a JSON
//! payload. Plugins announce handlers; the node puts them in the [`Registry`]; [`Worker`]s claim
//! runnable jobs for registered handlers only, run them through the handler's [`JobHandler`], and
//! commit the outcome — result, progress, cost, logs, the attestations and child jobs the attempt
//! produced — in one transaction guarded on the job's lease.
//!
//! ```text
//!             enqueue                 claim (attempt += 1, lease)
//!   (new) ───────────► queued ───────────────────────────────► running
//!                       ▲  ▲ ▲                                  │ │ │ │
//!     retry (backoff) ──┘  │ └── resume ◄── paused ◄── pause ───┘ │ │ │
//!     rescue (lease expired, attempts left) ◄─────────────────────┘ │ │
//!                                               success ────────────┘ │ ──► completed
//!                     permanent error, or attempts used up ───────────┘ ──► failed
//!   queued | running | paused ── cancel ──────────────────────────────────► cancelled
//!   failed ── qntx job retry ──► queued          queued ── claim, estimate over budget ──► paused
//! ```
//!
//! Who moves jobs: [`Worker`] (claim, release at shutdown; its completer writes every outcome:
//! complete, fail, retry), [`Rescuer`] (expired leases), [`BudgetResumer`] (budget pauses),
//! [`Pruner`] (deletes finished jobs after the retention), and users through the CLI (cancel,
//! pause, resume, retry). The periodic ones are [`Service`]s, which one [`Maintainer`] runs on
//! their intervals, with the lease renewer, the interrupter, the node heartbeat and the store
//! upkeep. A pause of a
//! running job interrupts it like a cancel and does not count the attempt. Rate and concurrency
//! limits per handler ([`limits`]) keep jobs queued rather than pausing them.
//!
//! Every transition is one guarded statement run by [`store`]: a late completion can never overwrite
//! `cancelled`, and a job rescued from a dead node cannot be completed twice. Semantics are
//! at-least-once; the attempt number reaches the guest.

pub mod attempt_io;
pub mod bounds;
pub mod budget;
mod budgets;
mod claim;
mod error;
pub mod events;
pub mod fair;
pub(crate) mod guard;
mod handler;
mod heartbeat;
mod job;
pub mod keys;
mod leases;
pub mod limits;
pub mod listing;
pub mod maintainer;
pub mod nodes;
mod pruner;
mod records;
mod registry;
pub mod request;
mod rescuer;
mod resumer;
mod service;
mod state;
pub mod store;
pub mod telemetry;
pub mod triggers;
mod upkeep;
mod validate;
pub mod watch;
mod worker;

pub use bounds::TreeLimits;
pub use budget::{BudgetLimits, Period, ResumeReport, Spend};
pub use error::{Error, Result};
pub use handler::{
    AttemptIo, AttestationReader, Execution, Failure, FailureKind, Interrupt, Interruption,
    JobHandler, JobTree, ProgressReport, ProgressSink, RunningJob,
};
pub use heartbeat::{HeartbeatConfig, HeartbeatReport, NodeHeartbeat};
pub use job::{
    AttemptNode, DEFAULT_MAX_ATTEMPTS, Job, JobStatus, LogLevel, LogLine, NewJob, PauseReason,
    Progress,
};
pub use leases::{
    InterruptReport, Interrupter, InterrupterConfig, LeaseRenewer, RenewReport, RenewerConfig,
};
pub use limits::{HandlerLimit, HandlerLimits};
pub use listing::{JobCounts, JobFilter, JobPage, SourceMatch};
pub use maintainer::{Maintainer, MaintainerConfig};
pub use pruner::{PruneReport, Pruner, PrunerConfig};
pub use records::{Activity, AttemptError, HandlerRecord, Lease, NodeRecord, Report};
pub use registry::{Registered, Registry};
pub use rescuer::{Rescuer, RescuerConfig};
pub use resumer::{BudgetResumer, ResumerConfig};
pub use service::{Service, ServiceReport};
pub use upkeep::{StoreUpkeep, UpkeepConfig, UpkeepReport};
pub use validate::{ConfigError, MAX_CLAIM_BATCH, MAX_LEASE, MAX_RETENTION, MIN_LEASE};
pub use worker::{InFlight, Wakeup, Worker, WorkerConfig, WorkerReport, backoff};
