//! Driving a guest call to its end on the calling thread, raced against the job's deadline and
//! its interrupt.
//!
//! Guests are called asynchronously: a guest waiting in a host call (a clock it sleeps on, a
//! `wasi:io/poll`, a blocking stream or file read) is a pending future, not a blocked thread.
//! [`drive`] polls that future on a current-thread tokio runtime owned by the calling thread
//! (each Pulse worker has its own) beside a watch that wakes at the deadline and every epoch
//! tick to look at the interrupt flag; when the watch wins, the call future is dropped, which
//! unwinds the guest (wasmtime resumes its fiber with an error), and the store is discarded by
//! the caller. CPU-bound guests are still stopped from the inside by the epoch callback
//! (`execute.rs`); the watch covers everything else.

use std::future::Future;
use std::time::Duration;

use super::job_ctx::Stop;
use crate::clock::now_ms;
use crate::pulse::Interrupt;

thread_local! {
    /// The thread's executor: timers for WASI clocks and the watch, the blocking pool that
    /// wasmtime-wasi's filesystem uses, and an I/O driver for its streams.
    static EXECUTOR: Executor = Executor::new();
}

/// A current-thread runtime that does not wait for its blocking pool when the thread ends: a
/// guest's dropped call may leave a read blocked there for good (a FIFO nobody writes), and the
/// node must still stop.
struct Executor(Result<Option<tokio::runtime::Runtime>, String>);

impl Executor {
    fn new() -> Self {
        Self(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(Some)
                .map_err(|error| format!("starting the guest executor: {error}")),
        )
    }

    fn block_on<F: Future>(&self, future: F) -> Result<F::Output, String> {
        match &self.0 {
            Ok(Some(runtime)) => Ok(runtime.block_on(future)),
            Ok(None) => Err("the guest executor is stopped".into()),
            Err(error) => Err(error.clone()),
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        if let Ok(runtime) = &mut self.0
            && let Some(runtime) = runtime.take()
        {
            runtime.shutdown_background();
        }
    }
}

/// When and why to stop a guest call.
pub(crate) struct Watch<'a> {
    /// Wall-clock deadline (Unix milliseconds).
    pub(crate) deadline_ms: i64,
    /// The limit the deadline enforces, for the error.
    pub(crate) limit_ms: i64,
    /// When the attempt started (Unix milliseconds): the error says how long after it stopped.
    pub(crate) started_ms: i64,
    /// The job's interrupt flag; `None` outside a job (`initialize`).
    pub(crate) interrupt: Option<&'a Interrupt>,
    /// How often to look at the interrupt flag.
    pub(crate) tick: Duration,
}

/// How a driven call ended without finishing.
#[derive(Debug)]
pub(crate) enum Ended {
    /// The watch stopped it.
    Stopped(Stop),
    /// The thread could not start its executor; the call never ran.
    NoExecutor(String),
}

/// Run `call` to completion unless the deadline passes or the job is interrupted first.
///
/// # Errors
///
/// [`Ended::Stopped`] with the reason when the watch won (the call future is dropped before
/// this returns); [`Ended::NoExecutor`] when the thread's runtime could not be built.
pub(crate) fn drive<F: Future>(call: F, watch: &Watch<'_>) -> Result<F::Output, Ended> {
    let raced = EXECUTOR.with(|executor| {
        executor.block_on(async {
            tokio::select! {
                biased;
                output = call => Ok(output),
                stop = watch.stopped() => Err(Ended::Stopped(stop)),
            }
        })
    });
    raced.map_err(Ended::NoExecutor)?
}

/// Block on `future` with the thread's executor, with no deadline: for callers that bound the
/// guest otherwise (the benchmark's reused instance).
///
/// # Errors
///
/// When the thread's runtime could not be built.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, String> {
    EXECUTOR.with(|executor| executor.block_on(future))
}

impl Watch<'_> {
    /// Resolves when the call must stop, and why; checks the interrupt every tick and wakes
    /// exactly at the deadline.
    async fn stopped(&self) -> Stop {
        loop {
            if let Some(why) = self.interrupt.and_then(Interrupt::get) {
                return Stop::Interrupted(why);
            }
            let now = now_ms();
            if now >= self.deadline_ms {
                return Stop::Timeout {
                    limit_ms: self.limit_ms,
                    after_ms: now - self.started_ms,
                };
            }
            let left = Duration::from_millis((self.deadline_ms - now).unsigned_abs());
            tokio::time::sleep(self.tick.min(left)).await;
        }
    }
}
