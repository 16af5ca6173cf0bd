//! What a node's workers share: the jobs in flight (to interrupt them, renew their leases and
//! tell when the node is idle), the claimed batch not started yet, and the wakeup.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::pulse::Job;
use crate::pulse::fair::{Room, Shares};
use crate::pulse::handler::{Interrupt, Interruption};

/// How long a job is taken to last before the node has run one: 10 ms.
pub(super) const UNMEASURED_JOB: Duration = Duration::from_millis(10);

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
    pub(super) busy: AtomicUsize,
    /// Claims finished so far: a change between two looks means work happened in between.
    pub(super) finished: AtomicU64,
    /// Jobs claimed in a batch and not started yet, most urgent first.
    claimed: Mutex<VecDeque<Job>>,
    /// How long this node's recent jobs ran, in µs (a moving average); 0 before the first.
    job_micros: AtomicU64,
    /// The same, per handler (only consulted when plugins have shares to respect).
    handler_micros: Mutex<HashMap<String, u64>>,
    /// Held from counting the plugins' room to sharing the claimed batch, so that no other
    /// worker's claim counts the room in between and takes jobs the shares cannot start.
    pub(super) claiming: Mutex<()>,
    /// Set by [`Self::interrupt_all`]: a job started afterwards (claimed in a batch, started by
    /// a worker that had not yet seen the node stop) is interrupted as it starts.
    interrupting: Mutex<Option<Interruption>>,
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

    pub(super) fn record_fault(&self, why: String) {
        let mut fault = self.fault_lock();
        let since = fault
            .as_ref()
            .map_or_else(Instant::now, |(since, _)| *since);
        *fault = Some((since, why));
    }

    pub(super) fn clear_fault(&self) {
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

    /// Interrupt every running job, and every job started from now on.
    pub fn interrupt_all(&self, why: Interruption) {
        let jobs = self.lock();
        *self.interrupting.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
        for held in jobs.values() {
            held.interrupt.raise(why);
        }
    }

    /// How many claimed jobs wait for a free worker.
    pub fn waiting(&self) -> usize {
        self.claimed().len()
    }

    /// How many jobs one worker is expected to finish within `horizon`, judging by how long
    /// recent jobs took, between 1 and `most`.
    pub(super) fn jobs_within(&self, horizon: Duration, most: u32) -> u32 {
        within(horizon, self.job_micros.load(Ordering::Relaxed), most)
    }

    /// Count a job of `handler` that ran for `took` in the moving averages (each new job
    /// weighs 1/8).
    pub(super) fn record_run(&self, handler: &str, took: Duration) {
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

    pub(super) fn take_claimed(&self) -> Option<Job> {
        self.claimed().pop_front()
    }

    /// The most urgent claimed job whose plugin has room in its share, now running here with
    /// its interrupt flag.
    pub(super) fn start_claimed(&self, shares: Option<&Shares>) -> Option<(Job, Arc<Interrupt>)> {
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
        if let Some(why) = *self.interrupting.lock().unwrap_or_else(|e| e.into_inner()) {
            interrupt.raise(why);
        }
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
    pub(super) fn room(
        &self,
        shares: &Shares,
        except: &[&str],
        horizon: Duration,
        most: u32,
    ) -> Room {
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

    pub(super) fn claimed(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.claimed.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn remove(&self, id: &str, claim: u32) {
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

/// How many jobs lasting `micros` each (0: not measured yet, taken as
/// [`UNMEASURED_JOB`]) one worker finishes within `horizon`, between 1 and `most`.
fn within(horizon: Duration, micros: u64, most: u32) -> u32 {
    let horizon = u64::try_from(horizon.as_micros()).unwrap_or(u64::MAX);
    let per_job = match micros {
        0 => u64::try_from(UNMEASURED_JOB.as_micros()).unwrap_or(u64::MAX),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn a_claim_takes_what_one_worker_finishes_within_the_horizon() {
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
    fn a_job_started_after_the_node_interrupted_all_is_interrupted_as_it_starts() {
        let in_flight = InFlight::default();
        let job = |id: &str| crate::pulse::Job {
            id: id.into(),
            handler: "h/a".into(),
            payload: serde_json::Value::Null,
            source: String::new(),
            status: crate::pulse::JobStatus::Running,
            pause_reason: None,
            priority: 0,
            attempt: 1,
            claims: 1,
            max_attempts: 3,
            run_at: 0,
            timeout_ms: None,
            progress: crate::pulse::Progress::default(),
            cost_estimate: 0.0,
            cost_actual: 0.0,
            result: None,
            error: None,
            error_details: None,
            parent_job_id: None,
            plugin_version: String::new(),
            created_at: 0,
            started_at: Some(0),
            completed_at: None,
            updated_at: 0,
            root_job_id: None,
            depth: 0,
            nodes: Vec::new(),
        };
        in_flight.claimed().push_back(job("running"));
        let (_, running) = in_flight.start_claimed(None).unwrap();
        in_flight.claimed().push_back(job("late"));
        assert_eq!(running.get(), None);
        in_flight.interrupt_all(Interruption::Shutdown);
        assert_eq!(running.get(), Some(Interruption::Shutdown));
        let (_, late) = in_flight.start_claimed(None).unwrap();
        assert_eq!(
            late.get(),
            Some(Interruption::Shutdown),
            "claimed before the stop, started after it: stopped at once"
        );
    }
}
