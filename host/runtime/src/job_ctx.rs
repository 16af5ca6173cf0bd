//! [`JobCtx`], the state behind one guest instance: the `T` of its `Store<T>`.
//!
//! It denies by default. A context built by [`JobCtx::for_initialize`] may read the store but
//! not write; one built by [`JobCtx::for_job`] buffers the job's writes, which Pulse commits
//! only if the attempt succeeds. Neither has files, network or environment beyond the plugin's
//! [`Grants`], and stdout and stderr go to bounded in-memory pipes that end up in the job log.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::limits::MemoryLimiter;
use super::output::CappedPipe;
use super::{Grants, Limits};
use crate::ats::Attestation;
use crate::clock::now_ms;
use crate::pulse::{
    self, AttestationReader, Interrupt, Interruption, JobTree, LogLevel, LogLine, NewJob, Progress,
    ProgressReport, ProgressSink,
};

/// Who a guest is: its attestations carry `actors = [actor]` and `source = name@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The plugin's name (or `handler/NAME`'s NAME for a user handler).
    pub name: String,
    /// Its version (or the handler's sha256).
    pub version: String,
    /// What its attestations say wrote them: `plugin:NAME` or `handler:NAME`
    /// ([`crate::ats::actor`]).
    pub actor: String,
}

impl Identity {
    /// Plugin `name` at `version`, actor `plugin:NAME`.
    pub fn plugin(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            actor: crate::ats::actor::plugin(name),
        }
    }

    /// User handler `name` at `version`, actor `handler:NAME`.
    pub fn handler(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            actor: crate::ats::actor::handler(name),
        }
    }

    /// `name@version`, the source of its attestations.
    pub fn source(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Minimum time between progress reports while a job runs.
const PROGRESS_FLUSH_INTERVAL_MS: i64 = 100;
/// Live resources (streams, pollables, files, ...) a guest may hold at once: each is host
/// memory, so a guest creating them in a loop must hit a wall long before the host does.
pub(crate) const MAX_RESOURCES: usize = 10_000;

/// Why the host stopped the guest, recorded so the error can say which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The wall-clock deadline passed; the guest was stopped `after_ms` into its call.
    Timeout { limit_ms: i64, after_ms: i64 },
    /// Pulse interrupted the job.
    Interrupted(Interruption),
}

/// The running job's side of the context.
pub(crate) struct JobScope {
    /// The job's id, attempt and claim number: what its writes are guarded on.
    pub(crate) job_id: String,
    pub(crate) attempt: u32,
    pub(crate) claims: u32,
    pub(crate) lease_owner: String,
    pub(crate) interrupt: Arc<Interrupt>,
    /// Where progress, cost and logs go while the job runs.
    pub(crate) progress_sink: Arc<dyn ProgressSink>,
    /// Counts the job's tree.
    pub(crate) tree_count: Arc<dyn JobTree>,
    pub(crate) attestations: Vec<Attestation>,
    /// Text bytes of `attestations`.
    pub(crate) attestation_bytes: usize,
    pub(crate) children: Vec<NewJob>,
    /// Payload bytes of `children`.
    pub(crate) child_payload_bytes: usize,
    /// Where the job sits in its tree, and how far the tree may grow.
    pub(crate) root_job_id: String,
    pub(crate) depth: u32,
    pub(crate) tree: pulse::TreeLimits,
    /// Descendants of the root when the attempt first enqueued (counted once per attempt).
    pub(crate) descendants: Option<u64>,
    pub(crate) progress: Progress,
    pub(crate) cost: f64,
    pub(crate) queries: usize,
    last_flush_ms: i64,
}

/// The state of one guest instance.
pub struct JobCtx {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) memory: MemoryLimiter,
    pub(crate) identity: Identity,
    /// The plugin's manifest `[config]`, for the `config` interface.
    pub(crate) config: Arc<[(String, String)]>,
    pub(crate) limits: Limits,
    /// Committed attestations, for the guest's queries.
    pub(crate) reader: Arc<dyn AttestationReader>,
    pub(crate) scope: Option<JobScope>,
    pub(crate) stop: Option<Stop>,
    logs: Vec<LogLine>,
    log_bytes: usize,
    dropped_log_lines: usize,
    stdout: CappedPipe,
    stderr: CappedPipe,
}

impl JobCtx {
    /// A context for `metadata` and `initialize`: store reads only, no job.
    ///
    /// # Errors
    ///
    /// A granted directory that cannot be opened.
    pub fn for_initialize(
        identity: Identity,
        limits: Limits,
        grants: &Grants,
        reader: Arc<dyn AttestationReader>,
    ) -> Result<Self, String> {
        Self::new(identity, limits, grants, reader, None)
    }

    /// A context for one attempt of `running`.
    ///
    /// # Errors
    ///
    /// A granted directory that cannot be opened.
    pub fn for_job(
        identity: Identity,
        limits: Limits,
        grants: &Grants,
        running: &pulse::RunningJob,
    ) -> Result<Self, String> {
        let scope = JobScope {
            job_id: running.job.id.clone(),
            attempt: running.job.attempt,
            claims: running.job.claims,
            lease_owner: running.lease_owner.clone(),
            interrupt: running.interrupt.clone(),
            progress_sink: running.io.progress.clone(),
            tree_count: running.io.tree.clone(),
            attestations: Vec::new(),
            attestation_bytes: 0,
            children: Vec::new(),
            child_payload_bytes: 0,
            root_job_id: running.job.root().to_owned(),
            depth: running.job.depth,
            tree: running.tree,
            descendants: None,
            progress: running.job.progress,
            // Cost adds up over attempts: what earlier attempts spent stays spent.
            cost: running.job.cost_actual,
            queries: 0,
            last_flush_ms: 0,
        };
        let reader = running.io.attestations.clone();
        Self::new(identity, limits, grants, reader, Some(scope))
    }

    fn new(
        identity: Identity,
        limits: Limits,
        grants: &Grants,
        reader: Arc<dyn AttestationReader>,
        scope: Option<JobScope>,
    ) -> Result<Self, String> {
        let stdout = CappedPipe::new(limits.log_bytes);
        let stderr = CappedPipe::new(limits.log_bytes);
        // Deny by default: no preopened directories, no environment, no arguments, no network
        // (sockets and name lookup are refused), no stdin. Clocks and randomness work. The
        // plugin's grants then add directories and environment variables.
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        grants.apply(&mut builder)?;
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        Ok(Self {
            wasi: builder.build(),
            table,
            memory: MemoryLimiter::new(limits.memory_bytes),
            identity,
            config: grants.config.clone(),
            limits,
            reader,
            scope,
            stop: None,
            logs: Vec::new(),
            log_bytes: 0,
            dropped_log_lines: 0,
            stdout,
            stderr,
        })
    }

    /// Add a line to the job log (or, outside a job, the node's log), within the log limit.
    pub(crate) fn log(&mut self, level: LogLevel, stage: &str, message: &str) {
        let Some(scope) = &self.scope else {
            let plugin = &self.identity.name;
            match level {
                LogLevel::Trace => tracing::trace!(plugin, "{message}"),
                LogLevel::Debug => tracing::debug!(plugin, "{message}"),
                LogLevel::Info => tracing::info!(plugin, "{message}"),
                LogLevel::Warn => tracing::warn!(plugin, "{message}"),
                LogLevel::Error => tracing::error!(plugin, "{message}"),
            }
            return;
        };
        if self.log_bytes + message.len() > self.limits.log_bytes {
            self.dropped_log_lines += 1;
            return;
        }
        self.log_bytes += message.len();
        self.logs.push(LogLine {
            attempt: scope.attempt,
            time: now_ms(),
            level,
            stage: stage.to_owned(),
            message: message.to_owned(),
        });
    }

    /// Report progress, cost and log lines so far, at most every 100 ms. A job
    /// whose lease is gone learns it here and is interrupted.
    pub(crate) fn flush(&mut self) {
        let now = now_ms();
        let Some(scope) = &mut self.scope else {
            return;
        };
        if now - scope.last_flush_ms < PROGRESS_FLUSH_INTERVAL_MS {
            return;
        }
        scope.last_flush_ms = now;
        let lease = pulse::store::Lease {
            id: &scope.job_id,
            attempt: scope.attempt,
            claim: scope.claims,
            owner: &scope.lease_owner,
        };
        let report = ProgressReport {
            progress: scope.progress,
            cost: scope.cost,
            logs: &self.logs,
            now,
        };
        let saved = scope.progress_sink.report(lease, report);
        match saved {
            Ok(()) => self.logs.clear(),
            Err(pulse::Error::LeaseLost { .. }) => {
                scope.interrupt.raise(Interruption::Cancelled);
            }
            Err(error) => {
                tracing::warn!(job = %scope.job_id, error = %crate::error_chain(&error), "saving progress failed");
            }
        }
    }

    /// Everything the guest left behind: log lines not yet written (with captured stdout and
    /// stderr, and a note of dropped lines), and the job scope.
    pub(crate) fn finish(mut self) -> (Vec<LogLine>, Option<JobScope>) {
        let mut dropped_bytes = 0;
        for (stage, pipe) in [
            ("stdout", self.stdout.clone()),
            ("stderr", self.stderr.clone()),
        ] {
            let (bytes, dropped) = pipe.contents();
            dropped_bytes += dropped;
            let text = String::from_utf8_lossy(&bytes);
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                self.log(LogLevel::Info, stage, line);
            }
        }
        if self.dropped_log_lines > 0 || dropped_bytes > 0 {
            let note = format!(
                "{} log line(s) and {dropped_bytes} byte(s) of stdout/stderr dropped: the job's \
                 log limit is {} bytes",
                self.dropped_log_lines, self.limits.log_bytes
            );
            self.log_bytes = 0;
            self.log(LogLevel::Warn, "runtime", &note);
        }
        (self.logs, self.scope)
    }
}

impl WasiView for JobCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
