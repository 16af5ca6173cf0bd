//! Running guests: `initialize` at load, and [`PluginHandler`], which turns a Pulse job into an
//! `execute-job` call in a fresh instance.

use std::sync::Arc;

use wasmtime::{Store, UpdateDeadline};

use super::bindings::{PluginPre, types};
use super::engine::MAX_WASM_STACK;
use super::job_ctx::Stop;
use super::limits::mib;
use super::slots::Slots;
use super::{Grants, Identity, JobCtx, Limits, Runtime};
use crate::clock::now_ms;
use crate::pulse::{
    self, Execution, Failure, FailureKind, Interruption, RunningJob, SharedConnection,
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
}

impl PluginHandler {
    /// A handler that instantiates `pre` for each job, with the plugin's limits and grants.
    pub(crate) fn new(
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
        }
    }
}

impl pulse::JobHandler for PluginHandler {
    fn concurrency(&self) -> Option<usize> {
        Some(self.limits.concurrency)
    }

    fn execute(&self, running: &RunningJob) -> Execution {
        let job = &running.job;
        let raw_handler = job
            .handler
            .split_once('/')
            .map_or(job.handler.as_str(), |(_, name)| name);
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
        let mut store = new_store(&self.runtime, ctx, deadline_ms, limit_ms, &self.limits);
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
        let called = self
            .pre
            .instantiate(&mut store)
            .and_then(|plugin| plugin.call_execute_job(&mut store, &wit_job));
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
                Err(trap_failure(
                    &name(),
                    &error,
                    stop,
                    memory_exceeded,
                    &self.limits,
                    panic_message(&stderr),
                ))
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
pub(crate) struct Announcement {
    pub(crate) info: types::PluginInfo,
    pub(crate) registration: types::Registration,
}

/// Call `metadata` and `initialize` in one fresh instance.
///
/// # Errors
///
/// A one-line reason: a trap, a timeout, or the plugin's own refusal.
pub(crate) fn initialize(
    runtime: &Runtime,
    pre: &PluginPre<JobCtx>,
    identity_hint: &str,
    limits: &Limits,
    grants: &Grants,
    config: &[(String, String)],
    conn: SharedConnection,
) -> Result<Announcement, String> {
    let identity = Identity {
        name: identity_hint.to_owned(),
        version: String::new(),
    };
    let ctx = JobCtx::for_initialize(identity, limits.clone(), grants, conn)?;
    let limit_ms = crate::clock::millis(limits.timeout);
    let mut store = new_store(
        runtime,
        ctx,
        now_ms().saturating_add(limit_ms),
        limit_ms,
        limits,
    );
    let called = pre.instantiate(&mut store).and_then(|plugin| {
        let info = plugin.call_metadata(&mut store)?;
        store.data_mut().identity = Identity {
            name: info.name.clone(),
            version: info.version.clone(),
        };
        let registration = plugin.call_initialize(&mut store, config)?;
        Ok((info, registration))
    });
    let memory_exceeded = store.data().memory.exceeded;
    let stop = store.data().stop;
    let (logs, _) = store.into_data().finish();
    let stderr: Vec<&str> = logs.iter().map(|line| line.message.as_str()).collect();
    let panic = panic_message(&stderr);
    match called {
        Ok((info, Ok(registration))) => Ok(Announcement { info, registration }),
        Ok((_, Err(refusal))) => Err(format!("initialize refused: {refusal}")),
        Err(error) => {
            Err(trap_failure("initialize", &error, stop, memory_exceeded, limits, panic).message)
        }
    }
}

/// A store for one instance: memory limit, fuel when the engine meters it, and an epoch
/// callback that stops the guest at its deadline or when Pulse interrupts the job.
fn new_store(
    runtime: &Runtime,
    ctx: JobCtx,
    deadline_ms: i64,
    limit_ms: i64,
    limits: &Limits,
) -> Store<JobCtx> {
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
        if now_ms() >= deadline_ms {
            ctx.stop = Some(Stop::Timeout { limit_ms });
            return Err(wasmtime::Error::msg("deadline passed"));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    store
}

/// Explain why a guest call failed, naming the limit when the host stopped it.
fn trap_failure(
    name: &str,
    error: &wasmtime::Error,
    stop: Option<Stop>,
    memory_exceeded: Option<usize>,
    limits: &Limits,
    panic: Option<String>,
) -> Failure {
    let details: Vec<String> = error.chain().map(|cause| cause.to_string()).collect();
    let (message, kind) = match (stop, memory_exceeded) {
        (Some(Stop::Interrupted(why)), _) => {
            let failure = interrupted(name, why);
            (failure.message, failure.kind)
        }
        (Some(Stop::Timeout { limit_ms }), _) => (
            format!("{name}: timed out (limit {limit_ms} ms)"),
            FailureKind::Retryable,
        ),
        (None, Some(desired)) => (
            format!(
                "{name}: trap: out of memory (limit {}; it asked for {})",
                mib(limits.memory_bytes),
                mib(desired)
            ),
            FailureKind::Retryable,
        ),
        (None, None) => {
            let cause = match error.downcast_ref::<wasmtime::Trap>() {
                Some(wasmtime::Trap::StackOverflow) => format!(
                    "trap: stack overflow (limit {} of wasm stack)",
                    mib(MAX_WASM_STACK)
                ),
                Some(wasmtime::Trap::OutOfFuel) => format!(
                    "trap: out of fuel (limit {})",
                    limits.fuel.unwrap_or(u64::MAX)
                ),
                Some(trap) => format!(
                    "trap: {}",
                    trap.to_string().trim_start_matches("wasm trap: ")
                ),
                None => error.to_string(),
            };
            let message = match panic {
                Some(panic) => format!("{name}: {panic} ({cause})"),
                None => format!("{name}: {cause}"),
            };
            (message, FailureKind::Retryable)
        }
    };
    Failure {
        message,
        details,
        kind,
    }
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
