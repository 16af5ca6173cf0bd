//! Running guests: `initialize` at load, and [`PluginHandler`], which turns a Pulse job into an
//! `execute-job` call in a fresh instance.

use std::sync::Arc;

use wasmtime::component::ResourceTableError;
use wasmtime::{Store, UpdateDeadline};

use super::bindings::{PluginPre, types};
use super::drive::{Ended, Watch, drive};
use super::engine::{MAX_WASM_STACK, SHADOW_STACK_BYTES};
use super::guest_exception;
use super::job_ctx::{MAX_RESOURCES, Stop};
use super::limits::mib;
use super::slots::Slots;
use super::traps::TrapKind;
use super::{Grants, Identity, JobCtx, Limits, Runtime};
use crate::clock::now_ms;
use crate::pulse::{
    self, AttestationReader, Execution, Failure, FailureKind, Interruption, RunningJob,
};

/// Runs the announced handlers of one plugin: registered with Pulse as their
/// [`pulse::JobHandler`]. At most `limits.concurrency` of its jobs run at once; more wait.
pub struct PluginHandler {
    runtime: Arc<Runtime>,
    pre: Arc<PluginPre<JobCtx>>,
    identity: Identity,
    limits: Limits,
    grants: Grants,
    slots: Slots,
    /// The handler name every job is given, whatever it was registered as (a user handler's).
    announced: Option<String>,
}

impl PluginHandler {
    /// A handler that instantiates `pre` for each job, with the plugin's limits and grants.
    pub fn new(
        runtime: Arc<Runtime>,
        pre: Arc<PluginPre<JobCtx>>,
        identity: Identity,
        limits: Limits,
        grants: Grants,
    ) -> Self {
        Self {
            runtime,
            pre,
            identity,
            slots: Slots::new(limits.concurrency),
            limits,
            grants,
            announced: None,
        }
    }

    /// Give every job `job.handler = name`: a user handler registered as `handler/NAME` sees
    /// the name its component announced, as the WIT promises.
    pub fn announced_as(mut self, name: String) -> Self {
        self.announced = Some(name);
        self
    }
}

impl pulse::JobHandler for PluginHandler {
    fn concurrency(&self) -> Option<usize> {
        Some(self.limits.concurrency)
    }

    fn execute(&self, running: &RunningJob) -> Execution {
        let job = &running.job;
        let raw_handler = self.announced.as_deref().unwrap_or_else(|| {
            job.handler
                .split_once('/')
                .map_or(job.handler.as_str(), |(_, name)| name)
        });
        // Only a failure names the handler: a successful job never formats it.
        let name = || format!("plugin '{}' handler '{raw_handler}'", self.identity.name);
        let version = self.identity.version.clone();
        let _slot = match self.slots.acquire(&running.interrupt, running.deadline_ms) {
            Ok(slot) => slot,
            Err(Some(why)) => return Execution::failed(interrupted(&name(), why), version),
            Err(None) => {
                let message = format!(
                    "{}: timed out waiting for a slot (the plugin's concurrency limit is {})",
                    name(),
                    self.limits.concurrency
                );
                return Execution::failed(retryable(message), version);
            }
        };
        // The plugin's timeout is a ceiling: a job's own timeout can only shorten it.
        let plugin_ms = crate::clock::millis(self.limits.timeout);
        let limit_ms = crate::clock::millis(running.timeout).min(plugin_ms);
        let deadline_ms = running.deadline_ms.min(now_ms().saturating_add(plugin_ms));
        let ctx = match JobCtx::for_job(
            self.identity.clone(),
            self.limits.clone(),
            &self.grants,
            running,
        ) {
            Ok(ctx) => ctx,
            Err(reason) => {
                return Execution::failed(retryable(format!("{}: {reason}", name())), version);
            }
        };
        let watch = Watch {
            deadline_ms,
            limit_ms,
            // When the attempt started (Pulse set its deadline then), so that "stopped after"
            // counts what the limit counts, a wait for a slot included.
            started_ms: running
                .deadline_ms
                .saturating_sub(crate::clock::millis(running.timeout)),
            interrupt: Some(&running.interrupt),
            tick: self.runtime.config().epoch_tick,
        };
        let mut store = new_store(&self.runtime, ctx, &watch, &self.limits);
        let wit_job = types::Job {
            id: job.id.clone(),
            handler: raw_handler.to_owned(),
            payload: job.payload.to_string(),
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            deadline_ms: u64::try_from(deadline_ms).unwrap_or_default(),
            parent_id: job.parent_job_id.clone(),
            source: job.source.clone(),
        };
        let called = drive(
            async {
                let plugin = self.pre.instantiate_async(&mut store).await?;
                plugin.call_execute_job(&mut store, &wit_job).await
            },
            &watch,
        );
        let called = settle(&mut store, called);
        let memory_exceeded = store.data().memory.exceeded;
        let stop = store.data().stop;
        // Progress, cost and log lines not yet flushed are committed with the outcome.
        let (logs, scope) = store.into_data().finish();
        let scope = scope.expect("a job context has a job scope");
        let outcome = match called {
            Ok(Ok(outcome)) => check_result(&outcome.result, &self.limits)
                .map_err(|message| permanent(format!("{}: {message}", name()))),
            Ok(Err(types::JobError::Permanent(message))) => {
                Err(permanent(format!("{} failed: {message}", name())))
            }
            Ok(Err(types::JobError::Retryable(message))) => {
                Err(retryable(format!("{} failed: {message}", name())))
            }
            Err(error) => {
                let stderr: Vec<&str> = logs
                    .iter()
                    .filter(|line| line.stage == "stderr")
                    .map(|line| line.message.as_str())
                    .collect();
                // A limit the host enforced explains the trap before the guest's own words.
                let exception = guest_exception::find(&stderr)
                    .filter(|_| stop.is_none() && memory_exceeded.is_none());
                let (failure, kind) = match exception {
                    Some(exception) => (
                        exception.failure(&name(), &error),
                        Some(TrapKind::Exception),
                    ),
                    None => trap_failure(
                        &name(),
                        &error,
                        stop,
                        memory_exceeded,
                        &self.limits,
                        panic_message(&stderr),
                    ),
                };
                if let Some(kind) = kind {
                    kind.count();
                }
                Err(failure)
            }
        };
        Execution {
            outcome,
            progress: scope.progress,
            cost: scope.cost,
            plugin_version: version,
            attestations: scope.attestations,
            children: scope.children,
            logs,
        }
    }
}

/// What a plugin said about itself at load.
pub struct Announcement {
    pub info: types::PluginInfo,
    pub registration: types::Registration,
}

/// Call `metadata` and `initialize` in one fresh instance, whose queries `reader` answers;
/// `named` hears the name `metadata` answered before `initialize` runs.
///
/// # Errors
///
/// A one-line reason: a trap, a timeout, or the plugin's own refusal.
pub fn initialize(
    runtime: &Runtime,
    pre: &PluginPre<JobCtx>,
    identity_hint: &str,
    limits: &Limits,
    grants: &Grants,
    reader: Arc<dyn AttestationReader>,
    named: &dyn Fn(&str),
) -> Result<Announcement, String> {
    let identity = Identity::plugin(identity_hint, "");
    let ctx = JobCtx::for_initialize(identity, limits.clone(), grants, reader)?;
    let limit_ms = crate::clock::millis(limits.timeout);
    let started_ms = now_ms();
    let watch = Watch {
        deadline_ms: started_ms.saturating_add(limit_ms),
        limit_ms,
        started_ms,
        interrupt: None,
        tick: runtime.config().epoch_tick,
    };
    let mut store = new_store(runtime, ctx, &watch, limits);
    let called = drive(
        async {
            let plugin = pre.instantiate_async(&mut store).await?;
            let info = plugin.call_metadata(&mut store).await?;
            store.data_mut().identity = Identity::plugin(&info.name, &info.version);
            named(&info.name);
            let registration = plugin.call_initialize(&mut store, &grants.config).await?;
            Ok((info, registration))
        },
        &watch,
    );
    let called = settle(&mut store, called);
    let memory_exceeded = store.data().memory.exceeded;
    let stop = store.data().stop;
    let (logs, _) = store.into_data().finish();
    let stderr: Vec<&str> = logs.iter().map(|line| line.message.as_str()).collect();
    let panic = panic_message(&stderr);
    let exception =
        guest_exception::find(&stderr).filter(|_| stop.is_none() && memory_exceeded.is_none());
    match called {
        Ok((info, Ok(registration))) => Ok(Announcement { info, registration }),
        Ok((_, Err(refusal))) => Err(format!("initialize refused: {refusal}")),
        Err(error) => Err(match exception {
            Some(exception) => exception.failure("initialize", &error).message,
            None => {
                trap_failure("initialize", &error, stop, memory_exceeded, limits, panic)
                    .0
                    .message
            }
        }),
    }
}

/// A store for one instance: memory limit, fuel when the engine meters it, and an epoch
/// callback that stops a running guest at its deadline or when Pulse interrupts the job (a
/// guest waiting in a host call is stopped by [`drive`] instead).
fn new_store(runtime: &Runtime, ctx: JobCtx, watch: &Watch<'_>, limits: &Limits) -> Store<JobCtx> {
    let Watch {
        deadline_ms,
        limit_ms,
        started_ms,
        ..
    } = *watch;
    let mut store = Store::new(runtime.engine(), ctx);
    store.limiter(|ctx| &mut ctx.memory);
    if runtime.config().fuel {
        store
            .set_fuel(limits.fuel.unwrap_or(u64::MAX))
            .expect("the engine meters fuel");
    }
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut cx| {
        let ctx = cx.data_mut();
        let interrupted = ctx.scope.as_ref().and_then(|scope| scope.interrupt.get());
        if let Some(why) = interrupted {
            ctx.stop = Some(Stop::Interrupted(why));
            return Err(wasmtime::Error::msg("interrupted by the node"));
        }
        let now = now_ms();
        if now >= deadline_ms {
            ctx.stop = Some(Stop::Timeout {
                limit_ms,
                after_ms: now - started_ms,
            });
            return Err(wasmtime::Error::msg("deadline passed"));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    store
}

/// The result of a driven call as that of the guest call: a stop by the watch is recorded in
/// the store, as the epoch callback records its own.
fn settle<T>(
    store: &mut Store<JobCtx>,
    driven: Result<wasmtime::Result<T>, Ended>,
) -> wasmtime::Result<T> {
    match driven {
        Ok(called) => called,
        Err(Ended::Stopped(stop)) => {
            store.data_mut().stop = Some(stop);
            Err(wasmtime::Error::msg(match stop {
                Stop::Timeout { .. } => "deadline passed while the guest waited in a host call",
                Stop::Interrupted(_) => {
                    "interrupted by the node while the guest waited in a host call"
                }
            }))
        }
        Err(Ended::NoExecutor(reason)) => Err(wasmtime::Error::msg(reason)),
    }
}

/// Explain why a guest call failed, naming the limit when the host stopped it; the kind of
/// trap, unless the node interrupted it.
fn trap_failure(
    name: &str,
    error: &wasmtime::Error,
    stop: Option<Stop>,
    memory_exceeded: Option<usize>,
    limits: &Limits,
    panic: Option<String>,
) -> (Failure, Option<TrapKind>) {
    let details: Vec<String> = error.chain().map(|cause| cause.to_string()).collect();
    let (message, kind, trap) = match (stop, memory_exceeded) {
        (Some(Stop::Interrupted(why)), _) => {
            let failure = interrupted(name, why);
            (failure.message, failure.kind, None)
        }
        (Some(Stop::Timeout { limit_ms, after_ms }), _) => (
            format!("{name}: timed out (limit {limit_ms} ms, stopped after {after_ms} ms)"),
            FailureKind::Retryable,
            Some(TrapKind::Timeout),
        ),
        (None, Some(desired)) => (
            format!(
                "{name}: trap: out of memory (limit {}; it asked for {} in all its memories)",
                mib(limits.memory_bytes),
                mib(desired)
            ),
            FailureKind::Retryable,
            Some(TrapKind::OutOfMemory),
        ),
        (None, None) => {
            let (cause, trap) = match error.downcast_ref::<wasmtime::Trap>() {
                Some(wasmtime::Trap::StackOverflow) => (
                    format!(
                        "trap: stack overflow (limit {} of wasm stack)",
                        mib(MAX_WASM_STACK)
                    ),
                    TrapKind::StackOverflow,
                ),
                Some(wasmtime::Trap::OutOfFuel) => (
                    format!(
                        "trap: out of fuel (limit {})",
                        limits.fuel.unwrap_or(u64::MAX)
                    ),
                    TrapKind::OutOfFuel,
                ),
                Some(wasmtime::Trap::MemoryOutOfBounds) => (
                    format!(
                        "trap: out of bounds memory access (also how a guest ends whose stack \
                         in linear memory overflows: guests built by qntx have a {} stack in \
                         linear memory, so keep large buffers on the heap)",
                        kib(SHADOW_STACK_BYTES)
                    ),
                    TrapKind::MemoryOutOfBounds,
                ),
                Some(trap) => (
                    format!(
                        "trap: {}",
                        trap.to_string().trim_start_matches("wasm trap: ")
                    ),
                    if panic.is_some() {
                        TrapKind::Panic
                    } else {
                        TrapKind::Trap
                    },
                ),
                None if resources_exhausted(error) => (
                    format!(
                        "trap: too many live resources (limit {MAX_RESOURCES} streams, files, \
                         pollables and the like at once)"
                    ),
                    TrapKind::TooManyResources,
                ),
                None => (host_cause(error), TrapKind::Host),
            };
            let message = match panic {
                Some(panic) => format!("{name}: {panic} ({cause})"),
                None => format!("{name}: {cause}"),
            };
            (message, FailureKind::Retryable, Some(trap))
        }
    };
    let failure = Failure {
        message,
        details,
        kind,
    };
    (failure, trap)
}

/// Whether the guest trapped because its resource table was full.
fn resources_exhausted(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ResourceTableError>(),
            Some(ResourceTableError::Full)
        )
    })
}

/// What a failed host call said, without the wasm backtrace wasmtime wraps it in (the
/// backtrace stays in the error's details): `writing attestations: disk I/O error`.
fn host_cause(error: &wasmtime::Error) -> String {
    let causes: Vec<String> = error
        .chain()
        .map(ToString::to_string)
        .filter(|cause| !cause.starts_with("error while executing at wasm backtrace"))
        .collect();
    if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    }
}

/// `64 KiB`.
fn kib(bytes: usize) -> String {
    format!("{} KiB", bytes >> 10)
}

/// The message of a Rust guest's panic, from what it printed to stderr:
/// `panicked at src/lib.rs:52:24: boom`.
fn panic_message(stderr: &[&str]) -> Option<String> {
    let start = stderr
        .iter()
        .position(|line| line.contains("panicked at "))?;
    let mut text = stderr[start][stderr[start].find("panicked at ")?..].to_owned();
    for line in &stderr[start + 1..] {
        if line.starts_with("note: ") {
            break;
        }
        text.push(' ');
        text.push_str(line);
    }
    let mut end = text.len().min(1000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    Some(text)
}

fn permanent(message: String) -> Failure {
    Failure {
        message,
        details: Vec::new(),
        kind: FailureKind::Permanent,
    }
}

fn retryable(message: String) -> Failure {
    Failure {
        message,
        details: Vec::new(),
        kind: FailureKind::Retryable,
    }
}

fn interrupted(name: &str, why: Interruption) -> Failure {
    let message = match why {
        Interruption::Cancelled => format!("{name}: interrupted: the job was cancelled"),
        Interruption::Shutdown => format!("{name}: interrupted: the node is shutting down"),
    };
    Failure {
        message,
        details: Vec::new(),
        kind: FailureKind::Interrupted(why),
    }
}

/// A result must be JSON within the size limit.
fn check_result(result: &str, limits: &Limits) -> Result<serde_json::Value, String> {
    if result.len() > limits.result_bytes {
        return Err(format!(
            "result is {} bytes; the limit is {}",
            result.len(),
            limits.result_bytes
        ));
    }
    serde_json::from_str(result).map_err(|error| format!("result is not valid JSON: {error}"))
}
