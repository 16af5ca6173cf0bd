//! The worker: claims a runnable job, runs it through its handler, commits the outcome.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::fair::{Room, Shares};
use super::handler::{
    Execution, Failure, FailureKind, Interrupt, Interruption, RunningJob, SharedConnection,
};
use super::store::{self, AttemptError, ClaimParams, Completion, Lease, Report};
use super::{Error, HandlerLimits, Job, JobStatus, LogLevel, LogLine, Registry, TreeLimits};
use crate::clock::{self, Clock, millis, now_ms};
use crate::storage::{Connection, Store};

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
    pub const UNMEASURED_JOB: Duration = Duration::from_millis(10);

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

/// A running claim: its number, interrupt flag and handler.
#[derive(Debug)]
struct Held {
    claim: u32,
    interrupt: Arc<Interrupt>,
    handler: String,
}

/// The jobs running on this node, so the node can interrupt them and tell when it is idle.
#[derive(Debug, Default)]
pub struct InFlight {
    /// By job id: jobs a worker runs or is committing the outcome of.
    jobs: Mutex<HashMap<String, Held>>,
    /// Since when, and why, the node's writes fail; cleared by the next successful commit.
    fault: Mutex<Option<(Instant, String)>>,
    /// Workers between the start of a claim and the commit of its outcome.
    busy: AtomicUsize,
    /// Claims finished so far: a change between two looks means work happened in between.
    finished: AtomicU64,
    /// Jobs claimed in a batch and not started yet, most urgent first.
    claimed: Mutex<VecDeque<Job>>,
    /// How long this node's recent jobs ran, in µs (a moving average); 0 before the first.
    job_micros: AtomicU64,
    /// The same, per handler (only consulted when plugins have shares to respect).
    handler_micros: Mutex<HashMap<String, u64>>,
    /// Held from counting the plugins' room to sharing the claimed batch, so that no other
    /// worker's claim counts the room in between and takes jobs the shares cannot start.
    claiming: Mutex<()>,
}

impl InFlight {
    /// A marker that no claim is under way: compare two markers around a look at the queue to
    /// know that no worker changed it meanwhile.
    pub fn quiet_marker(&self) -> Option<u64> {
        (self.busy.load(Ordering::SeqCst) == 0).then(|| self.finished.load(Ordering::SeqCst))
    }

    /// The running claims (outcomes not committed yet included): job id and claim number.
    pub fn held(&self) -> Vec<(String, u32)> {
        self.lock()
            .iter()
            .map(|(id, held)| (id.clone(), held.claim))
            .collect()
    }

    /// Every claim a worker of this node still holds: running, committing, or claimed and
    /// waiting for a worker. Only these leases are renewed.
    pub fn renewable(&self) -> Vec<(String, u32)> {
        let mut held = self.held();
        held.extend(
            self.claimed()
                .iter()
                .map(|job| (job.id.clone(), job.claims)),
        );
        held
    }

    /// Since when and why the node's writes have failed, if they fail now (a later commit
    /// that succeeds clears it).
    pub fn fault(&self) -> Option<(Duration, String)> {
        self.fault_lock()
            .as_ref()
            .map(|(since, why)| (since.elapsed(), why.clone()))
    }

    fn record_fault(&self, why: String) {
        let mut fault = self.fault_lock();
        let since = fault
            .as_ref()
            .map_or_else(Instant::now, |(since, _)| *since);
        *fault = Some((since, why));
    }

    fn clear_fault(&self) {
        let mut fault = self.fault_lock();
        if fault.is_some() {
            tracing::info!("database writes succeed again");
            *fault = None;
        }
    }

    fn fault_lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, String)>> {
        self.fault.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many jobs are running.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no job is running.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Interrupt one job, if it runs here.
    pub fn interrupt(&self, id: &str, why: Interruption) {
        if let Some(held) = self.lock().get(id) {
            held.interrupt.raise(why);
        }
    }

    /// Interrupt every running job.
    pub fn interrupt_all(&self, why: Interruption) {
        for held in self.lock().values() {
            held.interrupt.raise(why);
        }
    }

    /// How many claimed jobs wait for a free worker.
    pub fn waiting(&self) -> usize {
        self.claimed().len()
    }

    /// How many jobs one worker is expected to finish within `horizon`, judging by how long
    /// recent jobs took, between 1 and `most`.
    fn jobs_within(&self, horizon: Duration, most: u32) -> u32 {
        within(horizon, self.job_micros.load(Ordering::Relaxed), most)
    }

    /// Count a job of `handler` that ran for `took` in the moving averages (each new job
    /// weighs 1/8).
    fn record_run(&self, handler: &str, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let _always_some =
            self.job_micros
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mean| {
                    Some(moving(mean, micros))
                });
        let mut by_handler = self
            .handler_micros
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match by_handler.get_mut(handler) {
            Some(mean) => *mean = moving(*mean, micros),
            None => {
                by_handler.insert(handler.to_owned(), micros);
            }
        }
    }

    fn take_claimed(&self) -> Option<Job> {
        self.claimed().pop_front()
    }

    /// The most urgent claimed job whose plugin has room in its share, now running here with
    /// its interrupt flag.
    fn start_claimed(&self, shares: Option<&Shares>) -> Option<(Job, Arc<Interrupt>)> {
        let mut jobs = self.lock();
        let mut claimed = self.claimed();
        let index = match shares {
            None => 0,
            Some(shares) => {
                let counts = shares.counts(jobs.values().map(|held| held.handler.as_str()));
                claimed
                    .iter()
                    .position(|job| shares.has_room(&job.handler, &counts))?
            }
        };
        let job = claimed.remove(index)?;
        let interrupt = Arc::new(Interrupt::default());
        let held = Held {
            claim: job.claims,
            interrupt: interrupt.clone(),
            handler: job.handler.clone(),
        };
        if let Some(older) = jobs.insert(job.id.clone(), held) {
            // An older claim of the same job still runs here: it was paused or rescued.
            older.interrupt.raise(Interruption::Cancelled);
        }
        Some((job, interrupt))
    }

    /// What a claim may still take of each plugin (see [`Room`]), not counting the jobs
    /// `except`, whose outcomes are being committed.
    fn room(&self, shares: &Shares, except: &[&str], horizon: Duration, most: u32) -> Room {
        let jobs = self.lock();
        let claimed = self.claimed();
        let by_handler = self
            .handler_micros
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let running = jobs
            .iter()
            .filter(|(id, _)| !except.contains(&id.as_str()))
            .map(|(_, held)| held.handler.as_str());
        let per_worker = |handler: &str| {
            let micros = by_handler.get(handler).copied().unwrap_or(0);
            usize::try_from(within(horizon, micros, most)).unwrap_or(usize::MAX)
        };
        Room::new(
            shares,
            running.chain(claimed.iter().map(|job| job.handler.as_str())),
            per_worker,
        )
    }

    fn claimed(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.claimed.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remove(&self, id: &str, claim: u32) {
        let mut jobs = self.lock();
        if jobs.get(id).is_some_and(|held| held.claim == claim) {
            jobs.remove(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Wakes idle workers (a job was enqueued here) and tells them to stop.
#[derive(Debug, Default)]
pub struct Wakeup {
    generation: Mutex<u64>,
    changed: Condvar,
    stopping: AtomicBool,
}

impl Wakeup {
    /// Wake every idle worker.
    pub fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.changed.notify_all();
    }

    /// Ask workers to stop claiming, and wake them.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.notify();
    }

    /// Whether workers should stop claiming.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// How many times workers were woken so far.
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleep until notified or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let seen = *guard;
        let _unused = self
            .changed
            .wait_timeout_while(guard, timeout, |generation| {
                *generation == seen && !self.is_stopping()
            })
            .unwrap_or_else(|e| e.into_inner());
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
/// A batch of outcomes whose commit fails is committed again one outcome at a time; one that
/// still fails is retried after these delays, then given up (its lease then expires).
const COMMIT_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(5),
];

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
    job_conn: SharedConnection,
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
        job_conn: SharedConnection,
        registry: Arc<Registry>,
        in_flight: Arc<InFlight>,
        wakeup: Arc<Wakeup>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            conn: Mutex::new(conn),
            job_conn,
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
    /// [`Error::Sqlite`] when the database fails; the jobs, if claimed, are then rescued later.
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
            self.in_flight.record_run(&handler, started.elapsed());
            let done = *first_done.get_or_insert_with(Instant::now);
            if pending.len() >= MAX_PENDING || done.elapsed() >= MAX_COMMIT_DELAY {
                break;
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut batch = WorkerReport::default();
        match self.commit_batch(&pending, handlers, shares, &mut batch) {
            Ok(()) => {
                report.add(batch);
                self.in_flight.clear_fault();
                self.forget(&pending);
            }
            Err(error) => {
                tracing::warn!(jobs = pending.len(), error = %self.describe(&error), "committing a batch of outcomes failed; committing them one by one");
                for (running, execution) in &pending {
                    self.commit_alone(running, execution, report);
                }
                self.forget(&pending);
            }
        }
        Ok(())
    }

    /// Commit a batch of outcomes in one transaction, and claim the next batch in it when no
    /// claimed job waits (one commit fewer per batch); the batch is shared before the
    /// connection is free for another worker's claim (see [`Self::claim`]).
    fn commit_batch(
        &self,
        pending: &[(RunningJob, Execution)],
        handlers: &[String],
        shares: Option<&Shares>,
        report: &mut WorkerReport,
    ) -> Result<(), Error> {
        let mut conn = self.connection();
        let tx = conn.transaction()?;
        for (running, execution) in pending {
            self.commit(&**tx, running, execution, report)?;
        }
        // Another worker claiming now is about to share a batch: claim none. (Waiting for it
        // while this transaction holds the store's writes would deadlock with its claim.)
        let claiming = match self.wakeup.is_stopping() || self.in_flight.waiting() > 0 {
            true => None,
            false => self.in_flight.claiming.try_lock().ok(),
        };
        // A claim that fails leaves the outcomes to commit on their own.
        let next = claiming.as_ref().and_then(|_| {
            // The jobs just run are still held: they no longer count against their plugins.
            let finishing: Vec<&str> = pending.iter().map(|(r, _)| r.job.id.as_str()).collect();
            let room = shares.map(|shares| self.room(shares, &finishing));
            store::claim_in(&**tx, &self.claim_params(handlers, room.as_ref()))
                .inspect_err(|error| {
                    tracing::warn!(error = %crate::error_chain(error), "claiming the next batch failed");
                })
                .ok()
        });
        tx.commit()?;
        // Shared before another worker counts the room (see `claim`).
        if let Some(claimed) = next {
            self.share(claimed, report);
        }
        drop(claiming);
        Ok(())
    }

    /// Commit one outcome in a transaction of its own, retrying after [`COMMIT_RETRY_DELAYS`];
    /// when every try fails, give the claim up: its lease is no longer renewed, so the rescuer
    /// of a node that can write requeues it when the lease expires.
    fn commit_alone(&self, running: &RunningJob, execution: &Execution, report: &mut WorkerReport) {
        let job = &running.job;
        let mut delays = COMMIT_RETRY_DELAYS.iter();
        loop {
            let mut alone = WorkerReport::default();
            let committed =
                self.in_transaction(|tx| self.commit(tx, running, execution, &mut alone));
            let error = match committed {
                Ok(()) => {
                    report.add(alone);
                    self.in_flight.clear_fault();
                    return;
                }
                Err(error) => self.describe(&error),
            };
            match delays.next() {
                Some(delay) if !self.wakeup.is_stopping() => {
                    tracing::warn!(job = %job.id, handler = %job.handler, retry_in = ?delay, %error, "committing an outcome failed; retrying");
                    std::thread::sleep(*delay);
                }
                _ => {
                    self.give_up(running, execution, &error, report);
                    return;
                }
            }
        }
    }

    /// After the last retry: record the attempt as failed (retryable) without its writes, with
    /// the cause; when even that cannot be written, abandon the claim, so that its lease lapses
    /// and a node that can write rescues it.
    fn give_up(
        &self,
        running: &RunningJob,
        execution: &Execution,
        error: &str,
        report: &mut WorkerReport,
    ) {
        let job = &running.job;
        let failure = Failure {
            message: format!("storing the outcome of '{}' failed: {error}", job.handler),
            details: vec![error.to_owned()],
            kind: FailureKind::Retryable,
        };
        let attempt_report = Report {
            progress: execution.progress,
            cost_actual: execution.cost,
            plugin_version: &execution.plugin_version,
        };
        let mut alone = WorkerReport::default();
        let now = self.config.clock.now_ms();
        let failed = self.in_transaction(|tx| {
            let logs = &execution.logs;
            self.fail(
                tx,
                running,
                &failure,
                &attempt_report,
                now,
                &mut alone,
                logs,
            )
        });
        match failed {
            Ok(()) => {
                tracing::error!(job = %job.id, handler = %job.handler, %error, "could not store an outcome; the attempt is recorded as failed without its writes");
                report.add(alone);
            }
            Err(second) => {
                let second = self.describe(&second);
                tracing::error!(job = %job.id, handler = %job.handler, %error, %second, "giving up on an outcome that cannot be written: the job stays running until its lease expires, then it is rescued");
                self.in_flight.record_fault(format!(
                    "committing the outcome of job '{}': {error}",
                    job.id
                ));
                report.abandoned += 1;
            }
        }
    }

    /// Run `writes` in an immediate transaction of their own on the worker's connection.
    fn in_transaction(
        &self,
        writes: impl FnOnce(&dyn Store) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut conn = self.connection();
        let tx = conn.transaction()?;
        writes(&**tx)?;
        tx.commit().map_err(Error::from)
    }

    /// The worker's connection (only its own thread uses it).
    fn connection(&self) -> std::sync::MutexGuard<'_, Box<dyn Connection>> {
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
            conn: self.job_conn.clone(),
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

    /// Commit the attempt's outcome. Its log lines are written in the same transaction, so a
    /// reader who sees the final status also sees the whole log.
    fn commit(
        &self,
        conn: &dyn Store,
        running: &RunningJob,
        execution: &Execution,
        report: &mut WorkerReport,
    ) -> Result<(), Error> {
        let job = &running.job;
        let now = self.config.clock.now_ms();
        let line = |level, message: String| LogLine {
            attempt: job.attempt,
            time: now,
            level,
            stage: "pulse".into(),
            message,
        };
        let attempt_report = Report {
            progress: execution.progress,
            cost_actual: execution.cost,
            plugin_version: &execution.plugin_version,
        };
        let writes = (execution.attestations.len(), execution.children.len());
        let mut logs = execution.logs.clone();
        let outcome = match &execution.outcome {
            Ok(result) => {
                let mut lines = logs.clone();
                lines.push(line(
                    LogLevel::Info,
                    format!(
                        "attempt {} completed: {} attestation(s) stored, {} child job(s) enqueued",
                        job.attempt, writes.0, writes.1
                    ),
                ));
                let completed = self.check_tree(conn, running, execution).and_then(|()| {
                    store::complete_in(
                        conn,
                        running.lease(),
                        &attempt_report,
                        Completion {
                            result,
                            attestations: &execution.attestations,
                            children: &execution.children,
                            logs: &lines,
                        },
                        now,
                    )
                });
                if completed.is_ok() {
                    report.completed += 1;
                    tracing::info!(job = %job.id, handler = %job.handler, attempt = job.attempt, attestations = writes.0, children = writes.1, "completed");
                }
                completed.map(drop)
            }
            Err(failure) => {
                if writes != (0, 0) {
                    logs.push(line(
                        LogLevel::Info,
                        format!(
                            "discarded {} attestation(s) and {} child job(s) of the failed attempt",
                            writes.0, writes.1
                        ),
                    ));
                }
                self.fail(conn, running, failure, &attempt_report, now, report, &logs)
            }
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Error::LeaseLost { .. }) => {
                report.discarded += 1;
                let status = store::get(conn, &job.id).map(|j| j.status);
                tracing::info!(job = %job.id, handler = %job.handler, ?status, "outcome discarded: the job changed meanwhile");
                logs.push(line(
                    LogLevel::Warn,
                    format!(
                        "attempt {} outcome discarded ({} attestation(s), {} child job(s)): the job is {} now",
                        job.attempt,
                        writes.0,
                        writes.1,
                        status.map_or_else(|_| "gone".into(), |s| s.to_string())
                    ),
                ));
                store::append_logs(conn, &job.id, &logs)
            }
            Err(error) if refused_by_database(&error) => {
                // The attempt's writes cannot be stored: that is the attempt's failure, not the
                // batch's (its savepoint is rolled back; the other outcomes commit).
                let failure = Failure {
                    message: format!(
                        "storing the outcome of '{}': {}",
                        job.handler,
                        crate::error_chain(&error)
                    ),
                    details: crate::error_chain(&error)
                        .split(": ")
                        .map(String::from)
                        .collect(),
                    kind: FailureKind::Permanent,
                };
                match self.fail(conn, running, &failure, &attempt_report, now, report, &logs) {
                    Err(Error::LeaseLost { .. }) => store::append_logs(conn, &job.id, &logs),
                    other => other,
                }
            }
            Err(other) => Err(other),
        }
    }

    /// Refuse the children of an attempt that would take its job tree past the node's
    /// descendant bound (the guest's enqueue checks the same bound against what it saw; this
    /// check, serialised with every other commit, is the one that holds).
    fn check_tree(
        &self,
        conn: &dyn Store,
        running: &RunningJob,
        execution: &Execution,
    ) -> Result<(), Error> {
        if execution.children.is_empty() {
            return Ok(());
        }
        let root = running.job.root();
        let adding = u64::try_from(execution.children.len()).unwrap_or(u64::MAX);
        running
            .tree
            .check_descendants(root, store::descendants(conn, root)?, adding)
    }

    /// Record a failed attempt with its log: back to the queue uncounted (shutdown), queued
    /// for a retry, or failed for good.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per outcome; a struct would only rename them"
    )]
    fn fail(
        &self,
        conn: &dyn Store,
        running: &RunningJob,
        failure: &Failure,
        attempt_report: &Report<'_>,
        now: i64,
        report: &mut WorkerReport,
        logs: &[LogLine],
    ) -> Result<(), Error> {
        let job = &running.job;
        let with_line = |level, message: String| {
            let mut lines = logs.to_vec();
            lines.push(LogLine {
                attempt: job.attempt,
                time: now,
                level,
                stage: "pulse".into(),
                message,
            });
            lines
        };
        if failure.kind == FailureKind::Interrupted(Interruption::Shutdown) {
            let lines = with_line(
                LogLevel::Info,
                format!(
                    "attempt {} returned to the queue: {}",
                    job.attempt, failure.message
                ),
            );
            store::release(conn, running.lease(), &lines, now)?;
            report.released += 1;
            return Ok(());
        }
        let retry_at = (failure.kind == FailureKind::Retryable && job.attempt < job.max_attempts)
            .then(|| now + millis(backoff(self.config.retry_base, job.attempt)));
        let lines = match retry_at {
            Some(at) => with_line(
                LogLevel::Warn,
                format!(
                    "attempt {}/{} failed, retrying in {} ms: {}",
                    job.attempt,
                    job.max_attempts,
                    at - now,
                    failure.message
                ),
            ),
            None => with_line(
                LogLevel::Error,
                format!(
                    "attempt {}/{} failed{}: {}",
                    job.attempt,
                    job.max_attempts,
                    if failure.kind == FailureKind::Retryable {
                        ", no attempts left"
                    } else {
                        " permanently"
                    },
                    failure.message
                ),
            ),
        };
        let status = store::fail(
            conn,
            running.lease(),
            job.max_attempts,
            &AttemptError {
                message: &failure.message,
                details: &failure.details,
                retry_at,
            },
            attempt_report,
            &lines,
            now,
        )?;
        tracing::warn!(job = %job.id, handler = %job.handler, attempt = job.attempt, error = %failure.message, %status, "attempt failed");
        match status {
            JobStatus::Queued => report.retried += 1,
            _ => report.failed += 1,
        }
        Ok(())
    }
}

/// How many jobs lasting `micros` each (0: not measured yet, taken as
/// [`WorkerConfig::UNMEASURED_JOB`]) one worker finishes within `horizon`, between 1 and `most`.
fn within(horizon: Duration, micros: u64, most: u32) -> u32 {
    let horizon = u64::try_from(horizon.as_micros()).unwrap_or(u64::MAX);
    let per_job = match micros {
        0 => u64::try_from(WorkerConfig::UNMEASURED_JOB.as_micros()).unwrap_or(u64::MAX),
        micros => micros,
    };
    u32::try_from(horizon / per_job.max(1))
        .unwrap_or(u32::MAX)
        .clamp(1, most.max(1))
}

/// A moving average in which each new value weighs 1/8 (0: no value yet).
fn moving(mean: u64, value: u64) -> u64 {
    match mean {
        0 => value,
        mean => mean - mean / 8 + value / 8,
    }
}

/// Whether the database refused this attempt's writes themselves (a rule, a constraint, a size),
/// as opposed to failing to write anything (I/O, a full disk, a lock, a read-only file).
fn refused_by_database(error: &Error) -> bool {
    match error {
        Error::Invalid(_) => true,
        Error::Storage(storage) | Error::Attestations(storage) => storage.is_refusal(),
        // The attestations of a completion fail as `Attestations`; an ATS error of SQLite's
        // own is taken for a failure of the store, any other for a refusal.
        Error::Ats(ats) => !matches!(ats, crate::ats::Error::Sqlite(_)),
        _ => false,
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
    fn a_claim_takes_what_one_worker_finishes_within_the_horizon() {
        let in_flight = InFlight::default();
        let horizon = Duration::from_millis(10);
        assert_eq!(
            in_flight.jobs_within(horizon, 32),
            1,
            "before any job ran, a job is taken to last 10 ms"
        );
        assert_eq!(in_flight.jobs_within(Duration::from_secs(3600), 32), 32);
        in_flight.record_run("h", Duration::from_micros(100));
        assert_eq!(
            in_flight.jobs_within(horizon, 32),
            32,
            "capped by the batch"
        );
        assert_eq!(in_flight.jobs_within(horizon, 0), 1, "at least one job");
        for _ in 0..40 {
            in_flight.record_run("h", Duration::from_millis(2));
        }
        assert_eq!(in_flight.jobs_within(horizon, 32), 5);
        for _ in 0..40 {
            in_flight.record_run("h", Duration::from_secs(1));
        }
        assert_eq!(in_flight.jobs_within(horizon, 32), 1);
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
