//! The completer: the only writer of a job's outcome. A worker hands it the outcomes of the
//! jobs it ran, on the worker's own thread and connection; it commits them in one transaction
//! per batch (each job's writes all or nothing), one by one when the batch fails, and, when an
//! outcome cannot be written at all, as a failed attempt or an abandoned claim.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{InFlight, Wakeup, WorkerReport, backoff};
use crate::clock::{Clock, millis};
use crate::pulse::handler::{Execution, Failure, FailureKind, Interruption, RunningJob};
use crate::pulse::store::{self, AttemptError, Completion, Report};
use crate::pulse::telemetry::{Outcome, Tally};
use crate::pulse::{Error, JobStatus, LogLevel, LogLine, keys};
use crate::storage::{Connection, Store};

/// A batch of outcomes whose commit fails is committed again one outcome at a time; one that
/// still fails is retried after these delays, then given up (its lease then expires).
const COMMIT_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_secs(1),
    Duration::from_secs(5),
];

/// What a worker's outcomes are committed with: its connection, the node's jobs in flight
/// (whose write faults it records), the stop signal (no retry delays while stopping), and the
/// clock and retry base of its [`super::WorkerConfig`].
pub(super) struct Completer<'a> {
    pub(super) conn: &'a Mutex<Box<dyn Connection>>,
    pub(super) in_flight: &'a InFlight,
    pub(super) wakeup: &'a Wakeup,
    pub(super) clock: &'a Arc<dyn Clock>,
    pub(super) retry_base: Duration,
}

impl Completer<'_> {
    /// The worker's connection (only its own thread uses it).
    fn connection(&self) -> MutexGuard<'_, Box<dyn Connection>> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A database error with the store it concerns and what the operating system said.
    fn describe(&self, error: &Error) -> String {
        self.connection().explain(error)
    }

    /// Commit a batch of outcomes in one transaction, and run `then` in it before it commits
    /// (the worker claims its next batch there: one commit fewer per batch); what `then`
    /// returned.
    ///
    /// # Errors
    ///
    /// [`Error`] when an outcome cannot be committed: the whole batch is rolled back.
    pub(super) fn commit_batch<T>(
        &self,
        pending: &[(RunningJob, Execution)],
        report: &mut WorkerReport,
        then: impl FnOnce(&dyn Store) -> T,
    ) -> Result<T, Error> {
        let mut conn = self.connection();
        let tx = conn.transaction()?;
        // Every key of the batch first, sorted: outcome by outcome they would come in any
        // order, and two batches could each wait for the other's.
        keys::take(
            &**tx,
            pending
                .iter()
                .flat_map(|(running, execution)| outcome_keys(running, execution)),
        )?;
        let mut tally = Tally::default();
        for (running, execution) in pending {
            self.commit(&**tx, running, execution, report, &mut tally)?;
        }
        let next = then(&**tx);
        tx.commit()?;
        tally.publish();
        Ok(next)
    }

    /// Commit one outcome in a transaction of its own, retrying after [`COMMIT_RETRY_DELAYS`];
    /// when every try fails, give the claim up: its lease is no longer renewed, so the rescuer
    /// of a node that can write requeues it when the lease expires.
    pub(super) fn commit_alone(
        &self,
        running: &RunningJob,
        execution: &Execution,
        report: &mut WorkerReport,
    ) {
        let job = &running.job;
        let mut delays = COMMIT_RETRY_DELAYS.iter();
        loop {
            let mut alone = WorkerReport::default();
            let mut tally = Tally::default();
            let committed = self
                .in_transaction(|tx| self.commit(tx, running, execution, &mut alone, &mut tally));
            let error = match committed {
                Ok(()) => {
                    report.add(alone);
                    tally.publish();
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
        let now = self.clock.now_ms();
        let mut outcome = None;
        let failed = self.in_transaction(|tx| {
            let logs = &execution.logs;
            outcome = Some(self.fail(
                tx,
                running,
                &failure,
                &attempt_report,
                now,
                &mut alone,
                logs,
            )?);
            Ok(())
        });
        match failed {
            Ok(()) => {
                let mut tally = Tally::default();
                if let Some(outcome) = outcome {
                    settled(&mut tally, running, execution, outcome);
                }
                tally.publish();
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

    /// Commit the attempt's outcome, staging its counts in `tally`. Its log lines are written
    /// in the same transaction, so a reader who sees the final status also sees the whole log.
    fn commit(
        &self,
        conn: &dyn Store,
        running: &RunningJob,
        execution: &Execution,
        report: &mut WorkerReport,
        tally: &mut Tally,
    ) -> Result<(), Error> {
        let job = &running.job;
        let now = self.clock.now_ms();
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
        // Already held when committed in a batch; taken again, a key is held at once.
        keys::take(conn, outcome_keys(running, execution))?;
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
                    store::complete_tallied(
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
                        tally,
                    )
                });
                if completed.is_ok() {
                    report.completed += 1;
                    tracing::info!(job = %job.id, handler = %job.handler, attempt = job.attempt, attestations = writes.0, children = writes.1, "completed");
                }
                completed.map(|_| Outcome::Completed)
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
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(Error::LeaseLost { .. }) => {
                report.discarded += 1;
                let status = store::get(conn, &job.id).map(|j| j.status);
                let lost = match status {
                    Ok(JobStatus::Cancelled) => Outcome::Cancelled,
                    Ok(JobStatus::Paused) => Outcome::Paused,
                    _ => Outcome::Discarded,
                };
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
                store::append_logs(conn, &job.id, &logs)?;
                lost
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
                    Err(Error::LeaseLost { .. }) => {
                        store::append_logs(conn, &job.id, &logs)?;
                        Outcome::Discarded
                    }
                    other => other?,
                }
            }
            Err(other) => return Err(other),
        };
        settled(tally, running, execution, outcome);
        Ok(())
    }

    /// Refuse the children of an attempt that would take its job tree past the node's
    /// descendant bound (the guest's enqueue checks the same bound against what it saw; this
    /// check, serialised by the tree's key with every other commit adding to the tree, is the
    /// one that holds).
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
    /// for a retry, or failed for good; which of them.
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
    ) -> Result<Outcome, Error> {
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
            return Ok(Outcome::Released);
        }
        let retry_at = (failure.kind == FailureKind::Retryable && job.attempt < job.max_attempts)
            .then(|| now + millis(backoff(self.retry_base, job.attempt)));
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
        Ok(match status {
            JobStatus::Queued => {
                report.retried += 1;
                Outcome::Retried
            }
            _ => {
                report.failed += 1;
                Outcome::Failed
            }
        })
    }
}

/// Stage the counts of an attempt that ended with `outcome`: the outcome, and the cost it
/// added when its report was stored with it.
fn settled(tally: &mut Tally, running: &RunningJob, execution: &Execution, outcome: Outcome) {
    let job = &running.job;
    tally.finished(&job.handler, outcome);
    if matches!(
        outcome,
        Outcome::Completed | Outcome::Retried | Outcome::Failed
    ) {
        // A report's cost includes the earlier attempts'.
        tally.spent(execution.cost - job.cost_actual);
    }
}

/// The keys committing `execution` names (see [`keys`]): a success that enqueues children
/// decides on its tree's size and on each unique child's dedup.
fn outcome_keys<'a>(
    running: &'a RunningJob,
    execution: &'a Execution,
) -> impl Iterator<Item = String> + 'a {
    let children = match execution.outcome {
        Ok(_) => execution.children.as_slice(),
        Err(_) => &[],
    };
    let tree = (!children.is_empty()).then(|| keys::tree(running.job.root()));
    let unique = children
        .iter()
        .filter(|child| child.unique)
        .map(|child| keys::unique(&child.handler, &child.source));
    tree.into_iter().chain(unique)
}

/// Whether the database refused this attempt's writes themselves (a rule, a constraint, a size),
/// as opposed to failing to write anything (I/O, a full disk, a lock, a read-only file).
fn refused_by_database(error: &Error) -> bool {
    match error {
        Error::Invalid(_) => true,
        Error::Storage(storage) | Error::Attestations(storage) => storage.is_refusal(),
        // The attestations of a completion fail as `Attestations` when the store fails, as
        // `Ats` when ATS refuses them.
        Error::Ats(_) => true,
        _ => false,
    }
}
