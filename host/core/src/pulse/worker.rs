//! The worker: claims a runnable job, runs it through its handler, and hands the outcome to
//! its [`completer`](completer::Completer), the only writer of a job's outcome.

mod completer;
mod in_flight;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::fair::{Room, Shares};
use super::handler::{
    AttemptIo, Execution, Failure, FailureKind, Interrupt, Interruption, RunningJob,
};
pub use in_flight::{InFlight, Wakeup};

use super::store::{self, ClaimParams, Lease};
use super::telemetry;
use super::{Error, HandlerLimits, Job, LogLevel, LogLine, Registry, TreeLimits};
use crate::clock::{self, Clock, millis, now_ms};
use crate::storage::{Connection, Store};
use completer::Completer;

/// A claimed job that waited this long before starting is checked for cancellation first.
const WAITED_CHECK_MS: i64 = 50;

/// Settings of a worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Lease owner: this node's id.
    pub owner: String,
    /// How long a claim holds a job without renewal; the node renews at a third of it.
    pub lease: Duration,
    /// Wall-clock limit of an attempt whose job names none.
    pub default_timeout: Duration,
    /// First retry delay; each further attempt doubles it (with ±25 % jitter), up to an hour.
    pub retry_base: Duration,
    /// How long an idle worker waits before looking for jobs again, unless woken.
    pub poll_interval: Duration,
    /// Most jobs one claim takes for the node's workers to share. Claiming (and committing)
    /// several jobs in one transaction is what makes short jobs fast; the jobs wait in the
    /// node's memory, already `running` under its lease, for the next free worker.
    pub claim_batch: u32,
    /// A claim takes no more jobs than one worker is expected to finish within this time,
    /// judging by how long this node's recent jobs took (until it has run one, a job is
    /// taken to last [`Self::UNMEASURED_JOB`]). Long jobs are thus claimed one at a time and
    /// stay free for other nodes, while short ones are claimed up to [`Self::claim_batch`] at
    /// once.
    pub claim_horizon: Duration,
    /// Rate and concurrency limits per handler.
    pub limits: HandlerLimits,
    /// How far one job tree may grow (depth, descendants of one root).
    pub tree: TreeLimits,
    /// The node's worker threads: each plugin's fair share is counted in them
    /// (see [`super::fair`]).
    pub workers: usize,
    /// Where stored times come from (sandbox deadlines use the wall clock).
    pub clock: Arc<dyn Clock>,
}

impl WorkerConfig {
    /// Default lease: 30 s.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
    /// Default attempt timeout: 30 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default first retry delay: 1 s.
    pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(1);
    /// Default idle poll: 50 ms (jobs whose `run_at` comes are seen this fast; new jobs wake
    /// the workers at once, see [`super::watch`]).
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(50);
    /// Default claim batch: 32 jobs.
    pub const DEFAULT_CLAIM_BATCH: u32 = 32;
    /// Default claim horizon: 10 ms of work.
    pub const DEFAULT_CLAIM_HORIZON: Duration = Duration::from_millis(10);
    /// How long a job is taken to last before the node has run one: 10 ms.
    pub const UNMEASURED_JOB: Duration = in_flight::UNMEASURED_JOB;

    /// Defaults for a node with this id: the constants above, no handler limits, the default
    /// [`TreeLimits`], one worker, the wall clock.
    pub fn new(owner: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            lease: Self::DEFAULT_LEASE,
            default_timeout: Self::DEFAULT_TIMEOUT,
            retry_base: Self::DEFAULT_RETRY_BASE,
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
            claim_batch: Self::DEFAULT_CLAIM_BATCH,
            claim_horizon: Self::DEFAULT_CLAIM_HORIZON,
            limits: HandlerLimits::new(),
            tree: TreeLimits::default(),
            workers: 1,
            clock: clock::system(),
        }
    }
}

/// Counts of what [`Worker::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Jobs this worker started (claimed by it, or by another worker of the node in a batch).
    pub claimed: usize,
    /// Jobs claimed but paused because their cost estimate did not fit the budget.
    pub paused: usize,
    /// Attempts completed.
    pub completed: usize,
    /// Attempts that failed and will be retried.
    pub retried: usize,
    /// Jobs failed for good.
    pub failed: usize,
    /// Attempts given back to the queue uncounted (shutdown).
    pub released: usize,
    /// Outcomes discarded because the job was cancelled or rescued meanwhile.
    pub discarded: usize,
    /// Outcomes that could not be committed even after retries: their jobs stay `running`
    /// until their lease expires, and the rescuer requeues them.
    pub abandoned: usize,
}

impl WorkerReport {
    fn add(&mut self, other: Self) {
        self.claimed += other.claimed;
        self.paused += other.paused;
        self.completed += other.completed;
        self.retried += other.retried;
        self.failed += other.failed;
        self.released += other.released;
        self.discarded += other.discarded;
        self.abandoned += other.abandoned;
    }
}

/// Most outcomes a worker holds before committing them in one transaction.
const MAX_PENDING: usize = 32;
/// Longest a worker holds a finished outcome before committing it, while more claimed jobs wait.
const MAX_COMMIT_DELAY: Duration = Duration::from_millis(5);

/// Claims jobs for registered handlers and runs them, one at a time, on the calling thread.
///
/// The workers of a node share their claims: a worker that finds none waiting claims a batch
/// (see [`WorkerConfig::claim_batch`]) and wakes the others. A worker commits the outcomes of the
/// jobs it ran in one transaction (each job's writes all or nothing), when no claimed job is left
/// or after at most 32 outcomes or 5 ms.
pub struct Worker {
    /// The worker's own connection: its commits and claims.
    conn: Mutex<Box<dyn Connection>>,
    /// The connection the jobs it runs get ([`RunningJob::conn`]).
    /// What the jobs it runs read and write while they run: never `conn`.
    io: AttemptIo,
    registry: Arc<Registry>,
    in_flight: Arc<InFlight>,
    wakeup: Arc<Wakeup>,
    config: WorkerConfig,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// One of a node's workers: it commits and claims on its own connection `conn` (the
    /// backend queues writers), hands `job_conn` to the jobs it runs, shares the claims in
    /// `in_flight`, and wakes the other workers through `wakeup`.
    pub fn new(
        conn: Box<dyn Connection>,
        io: AttemptIo,
        registry: Arc<Registry>,
        in_flight: Arc<InFlight>,
        wakeup: Arc<Wakeup>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            conn: Mutex::new(conn),
            io,
            registry,
            in_flight,
            wakeup,
            config,
        }
    }

    /// Run claimed jobs (claiming a batch when none waits) and commit their outcomes.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails; the jobs, if claimed, are then rescued later.
    pub fn run_once(&self) -> Result<WorkerReport, Error> {
        let registered = self.registry.all();
        let mut report = WorkerReport::default();
        if registered.is_empty() {
            return Ok(report);
        }
        let handlers: Vec<String> = registered.iter().map(|r| r.handler.clone()).collect();
        let shares = Shares::new(&registered, self.config.workers, self.registry.is_loading());
        let shares = (!shares.is_unbounded(self.config.workers)).then_some(shares);
        self.in_flight.busy.fetch_add(1, Ordering::SeqCst);
        let result = self.claim_and_run(&handlers, shares.as_ref(), &mut report);
        if let Err(error) = &result {
            self.in_flight
                .record_fault(format!("claiming jobs: {}", crate::error_chain(error)));
        }
        if report.claimed > 0 {
            self.in_flight.finished.fetch_add(1, Ordering::SeqCst);
        }
        self.in_flight.busy.fetch_sub(1, Ordering::SeqCst);
        result.map(|()| report)
    }

    fn claim_and_run(
        &self,
        handlers: &[String],
        shares: Option<&Shares>,
        report: &mut WorkerReport,
    ) -> Result<(), Error> {
        let mut pending = Vec::new();
        let mut first_done = None;
        while !self.wakeup.is_stopping() {
            let (job, interrupt) = match self.in_flight.start_claimed(shares) {
                Some(started) => started,
                None if pending.is_empty() => {
                    if !self.claim(handlers, shares, report)? {
                        break;
                    }
                    match self.in_flight.start_claimed(shares) {
                        Some(started) => started,
                        None => break,
                    }
                }
                None => break,
            };
            report.claimed += 1;
            let started = Instant::now();
            let handler = job.handler.clone();
            pending.push(self.run_job(job, interrupt));
            let ran = started.elapsed();
            self.in_flight.record_run(&handler, ran);
            telemetry::attempt_ran(&handler, ran);
            let done = *first_done.get_or_insert_with(Instant::now);
            if pending.len() >= MAX_PENDING || done.elapsed() >= MAX_COMMIT_DELAY {
                break;
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut batch = WorkerReport::default();
        let committed = self.completer().commit_batch(&pending, &mut batch, |tx| {
            self.claim_next(tx, &pending, handlers, shares)
        });
        match committed {
            Ok(next) => {
                // Shared before another worker counts the room (see `claim`).
                if let Some((claiming, claimed)) = next {
                    self.share(claimed, &mut batch);
                    drop(claiming);
                }
                report.add(batch);
                self.in_flight.clear_fault();
                self.forget(&pending);
            }
            Err(error) => {
                tracing::warn!(jobs = pending.len(), error = %self.describe(&error), "committing a batch of outcomes failed; committing them one by one");
                let completer = self.completer();
                for (running, execution) in &pending {
                    completer.commit_alone(running, execution, report);
                }
                self.forget(&pending);
            }
        }
        Ok(())
    }

    /// Who commits the outcomes of the jobs this worker ran: on its thread and connection.
    fn completer(&self) -> Completer<'_> {
        Completer {
            conn: &self.conn,
            in_flight: &self.in_flight,
            wakeup: &self.wakeup,
            clock: &self.config.clock,
            retry_base: self.config.retry_base,
        }
    }

    /// Claim the next batch inside `tx`, the transaction committing the outcomes of `pending`,
    /// when no claimed job waits and no other worker is claiming; the claim lock is held until
    /// the batch is shared, so that no other worker's claim counts the room in between (see
    /// [`Self::claim`]). A claim that fails leaves the outcomes to commit on their own.
    fn claim_next(
        &self,
        tx: &dyn Store,
        pending: &[(RunningJob, Execution)],
        handlers: &[String],
        shares: Option<&Shares>,
    ) -> Option<(MutexGuard<'_, ()>, store::Claimed)> {
        // Another worker claiming now is about to share a batch: claim none. (Waiting for it
        // while this transaction holds the store's writes would deadlock with its claim.)
        if self.wakeup.is_stopping() || self.in_flight.waiting() > 0 {
            return None;
        }
        let claiming = self.in_flight.claiming.try_lock().ok()?;
        // The jobs just run are still held: they no longer count against their plugins.
        let finishing: Vec<&str> = pending.iter().map(|(r, _)| r.job.id.as_str()).collect();
        let room = shares.map(|shares| self.room(shares, &finishing));
        store::claim_in(tx, &self.claim_params(handlers, room.as_ref()))
            .inspect_err(|error| {
                tracing::warn!(error = %crate::error_chain(error), "claiming the next batch failed");
            })
            .ok()
            .map(|claimed| (claiming, claimed))
    }

    /// The worker's connection (only its own thread uses it).
    fn connection(&self) -> MutexGuard<'_, Box<dyn Connection>> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The jobs of `pending` are committed or given up: this worker holds them no more.
    fn forget(&self, pending: &[(RunningJob, Execution)]) {
        for (running, _) in pending {
            self.in_flight.remove(&running.job.id, running.job.claims);
        }
    }

    /// A database error with the store it concerns and what the operating system said.
    fn describe(&self, error: &Error) -> String {
        self.connection().explain(error)
    }

    /// Claim a batch for the node's workers (this one included); false when nothing was
    /// claimed.
    fn claim(
        &self,
        handlers: &[String],
        shares: Option<&Shares>,
        report: &mut WorkerReport,
    ) -> Result<bool, Error> {
        // Room is counted, and the claimed jobs shared, while this worker holds the claim
        // lock: another worker's claim cannot count the plugins' room in between and take
        // jobs their shares cannot start.
        let claiming = self
            .in_flight
            .claiming
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut conn = self.connection();
        let room = shares.map(|shares| self.room(shares, &[]));
        let claimed = store::claim(conn.as_mut(), &self.claim_params(handlers, room.as_ref()))?;
        if !claimed.jobs.is_empty() {
            // Only a claim that wrote something shows that the database takes writes again.
            self.in_flight.clear_fault();
        }
        drop(conn);
        let shared = self.share(claimed, report);
        drop(claiming);
        Ok(shared)
    }

    fn room(&self, shares: &Shares, finishing: &[&str]) -> Room {
        self.in_flight.room(
            shares,
            finishing,
            self.config.claim_horizon,
            self.config.claim_batch,
        )
    }

    fn claim_params<'a>(
        &'a self,
        handlers: &'a [String],
        room: Option<&'a Room>,
    ) -> ClaimParams<'a> {
        let now = self.config.clock.now_ms();
        ClaimParams {
            handlers,
            owner: &self.config.owner,
            lease_until: now + millis(self.config.lease),
            limit: self
                .in_flight
                .jobs_within(self.config.claim_horizon, self.config.claim_batch),
            limits: &self.config.limits,
            room,
            now,
        }
    }

    /// Put a claimed batch where the node's workers find it (most urgent first, ahead of
    /// what waits already), and wake the others when more than one job came; true when any
    /// job came.
    fn share(&self, claimed: store::Claimed, report: &mut WorkerReport) -> bool {
        report.paused += claimed.paused.len();
        for id in &claimed.paused {
            tracing::info!(job = %id, "paused: its cost estimate does not fit the budget");
        }
        let count = claimed.jobs.len();
        for job in &claimed.jobs {
            // Since it could run: its `run_at`, or its enqueue when that came later.
            let ready = job.run_at.max(job.created_at);
            telemetry::claimed_after(&job.handler, job.started_at.unwrap_or(ready) - ready);
        }
        let mut waiting = self.in_flight.claimed();
        for job in claimed.jobs.into_iter().rev() {
            waiting.push_front(job);
        }
        drop(waiting);
        if count > 1 {
            self.wakeup.notify();
        }
        count > 0
    }

    /// Run jobs until `wakeup` says stop; sleeps when idle. Claimed jobs no worker started are
    /// given back to the queue uncounted.
    pub fn run(self, wakeup: &Wakeup) {
        while !wakeup.is_stopping() {
            match self.run_once() {
                Ok(report) if report.claimed == 0 && report.paused == 0 => {
                    wakeup.wait(self.config.poll_interval);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(error = %self.describe(&error), "worker failed");
                    wakeup.wait(self.config.poll_interval * 20);
                }
            }
        }
        self.release_waiting();
    }

    /// Give the claimed jobs that no worker started back to the queue.
    fn release_waiting(&self) {
        let now = self.config.clock.now_ms();
        while let Some(job) = self.in_flight.take_claimed() {
            let lease = Lease {
                id: &job.id,
                attempt: job.attempt,
                claim: job.claims,
                owner: &self.config.owner,
            };
            let line = LogLine {
                attempt: job.attempt,
                time: now,
                level: LogLevel::Info,
                stage: "pulse".into(),
                message: format!(
                    "attempt {} returned to the queue before it started: the node is shutting down",
                    job.attempt
                ),
            };
            if let Err(error) = store::release(&**self.connection(), lease, &[line], now) {
                tracing::warn!(job = %job.id, error = %crate::error_chain(&error), "could not return a claimed job");
            }
        }
    }

    /// Whether a job that waited in a claimed batch for longer than the node's interrupt check
    /// was cancelled or paused meanwhile (the check only covers jobs already running). Jobs
    /// taken at once skip the query.
    fn changed_while_waiting(&self, running: &RunningJob) -> bool {
        let claimed_at = running.job.started_at.unwrap_or(i64::MAX);
        if now_ms().saturating_sub(claimed_at) < WAITED_CHECK_MS {
            return false;
        }
        let held = [(running.job.id.clone(), running.job.claims)];
        store::interrupted(&**self.connection(), &held, &self.config.owner)
            .is_ok_and(|gone| !gone.is_empty())
    }

    fn run_job(&self, job: Job, interrupt: Arc<Interrupt>) -> (RunningJob, Execution) {
        let timeout = job
            .timeout_ms
            .map_or(self.config.default_timeout, Duration::from_millis);
        let running = RunningJob {
            deadline_ms: now_ms().saturating_add(millis(timeout)),
            timeout,
            interrupt,
            lease_owner: self.config.owner.clone(),
            io: self.io.clone(),
            tree: self.config.tree,
            job,
        };
        let span = tracing::info_span!("job", id = %running.job.id, handler = %running.job.handler, attempt = running.job.attempt);
        let _entered = span.enter();
        tracing::debug!("started");
        if self.changed_while_waiting(&running) {
            let failure = Failure {
                message: format!(
                    "job '{}' was cancelled or paused before it started",
                    running.job.id
                ),
                details: Vec::new(),
                kind: FailureKind::Interrupted(Interruption::Cancelled),
            };
            return (running, Execution::failed(failure, ""));
        }
        let execution = match self.registry.get(&running.job.handler) {
            Some(registered) => {
                catch_unwind(AssertUnwindSafe(|| registered.target.execute(&running)))
                    .unwrap_or_else(|panic| {
                        Execution::failed(
                            Failure {
                                message: format!(
                                    "handler '{}' panicked in the host: {}",
                                    running.job.handler,
                                    panic_message(&panic)
                                ),
                                details: Vec::new(),
                                kind: FailureKind::Retryable,
                            },
                            registered.version.clone(),
                        )
                    })
            }
            // Unregistered between claim and run (a plugin was unloaded): give it back.
            None => Execution::failed(
                Failure {
                    message: format!("handler '{}' is no longer registered", running.job.handler),
                    details: Vec::new(),
                    kind: FailureKind::Interrupted(Interruption::Shutdown),
                },
                "",
            ),
        };
        (running, execution)
    }
}

/// Delay before retrying after failed attempt number `attempt`: `base · 2^(attempt-1)`, with
/// ±25 % jitter so that jobs failing together do not retry together, capped at one hour.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exponential = base.saturating_mul(1 << attempt.saturating_sub(1).min(20));
    let capped = exponential.min(Duration::from_secs(3600));
    let jitter = rand::random_range(0.75..1.25);
    capped.mul_f64(jitter)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps_at_an_hour() {
        let base = Duration::from_secs(1);
        for attempt in 1..=4 {
            let expected = base * (1 << (attempt - 1));
            let delay = backoff(base, attempt);
            assert!(delay >= expected.mul_f64(0.75) && delay <= expected.mul_f64(1.25));
        }
        assert!(backoff(base, 60) <= Duration::from_secs(3600).mul_f64(1.25));
    }

    #[test]
    fn cancellation_wins_over_shutdown() {
        let interrupt = Interrupt::default();
        assert_eq!(interrupt.get(), None);
        interrupt.raise(Interruption::Cancelled);
        interrupt.raise(Interruption::Shutdown);
        assert_eq!(interrupt.get(), Some(Interruption::Cancelled));
    }
}
