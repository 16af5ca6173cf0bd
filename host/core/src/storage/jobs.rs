//! Statements on jobs: insert, read, and every guarded transition. A guarded statement reports
//! whether the guard matched (`bool`); Pulse turns a miss into its own error.

use super::Result;
use crate::pulse::listing::{HandlerCount, JobQuery};
use crate::pulse::{Activity, Job, Lease, NewJob, PauseReason, Progress, Report};

/// A queued job to insert, already validated by Pulse.
#[derive(Debug, Clone, Copy)]
pub struct JobInsert<'a> {
    /// Its id.
    pub id: &'a str,
    /// The job as asked for; `run_at`, when unset, is `now`.
    pub job: &'a NewJob,
    /// `job.payload` serialised.
    pub payload: &'a str,
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// A claim: move up to `limit` runnable jobs of `handlers` to `running` under a lease.
#[derive(Debug, Clone, Copy)]
pub struct ClaimWrite<'a> {
    /// Only jobs of these handlers.
    pub handlers: &'a [&'a String],
    /// The lease owner.
    pub owner: &'a str,
    /// The lease's expiry, Unix milliseconds.
    pub lease_until: i64,
    /// At most this many jobs.
    pub limit: u32,
    /// Now, Unix milliseconds: jobs whose `run_at` has come.
    pub now: i64,
}

/// The end of a running attempt, guarded on its lease.
#[derive(Debug, Clone, Copy)]
pub struct AttemptEnd<'a> {
    /// The attempt.
    pub lease: Lease<'a>,
    /// What it reported.
    pub report: &'a Report<'a>,
    /// Now, Unix milliseconds.
    pub now: i64,
}

/// Why an attempt failed, as stored.
#[derive(Debug, Clone, Copy)]
pub struct AttemptFailure<'a> {
    /// One line.
    pub message: &'a str,
    /// The cause chain, outermost first.
    pub details: &'a [String],
}

/// Statements on jobs.
pub trait Jobs {
    /// The oldest unfinished job of `handler` from `source`, for a `unique` enqueue.
    fn job_find_active(&self, handler: &str, source: &str) -> Result<Option<String>>;

    /// Insert a queued job.
    fn job_insert(&self, insert: &JobInsert<'_>) -> Result<()>;

    /// Insert queued jobs in this order, all or nothing when inside a transaction. A backend
    /// whose statements cost a round trip each sends them together (PostgreSQL: one statement
    /// per chunk); the default inserts them one by one.
    fn job_insert_many(&self, inserts: &[JobInsert<'_>]) -> Result<()> {
        inserts
            .iter()
            .try_for_each(|insert| self.job_insert(insert))
    }

    /// The job with this id.
    fn job_get(&self, id: &str) -> Result<Option<Job>>;

    /// Ids starting with `prefix` (upper case), in order, at most two: enough to tell one
    /// from many.
    fn job_ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>>;

    /// Up to `query.fetch` jobs that match `query`, newest first (by id, descending). A page
    /// of one handler's jobs in one status walks an index, however many other jobs there are.
    fn job_list(&self, query: &JobQuery) -> Result<Vec<Job>>;

    /// How many jobs each handler has in each status, in no order; pairs without jobs are
    /// left out.
    fn job_count_by_status(&self) -> Result<Vec<HandlerCount>>;

    /// How many jobs are queued for each handler not in `served`.
    fn job_count_unserved(&self, served: &[String]) -> Result<Vec<(String, u64)>>;

    /// Runnable and running jobs of `handlers`, and the next `run_at` not yet due.
    fn job_count_active(&self, handlers: &[String], now: i64) -> Result<Activity>;

    /// How many jobs are stored below `root` in its job tree.
    fn job_count_descendants(&self, root: &str) -> Result<u64>;

    /// Move runnable jobs to `running` (attempt and claim count up, this node recorded), most
    /// urgent first (priority, then `run_at`, then enqueue order); returned in that order.
    /// Two connections never claim the same job.
    fn job_claim(&self, claim: &ClaimWrite<'_>) -> Result<Vec<Job>>;

    /// Undo a claim of this transaction (`job` as claimed): attempt, claim count and node
    /// record as before. False when the job is not running under that claim.
    fn job_unclaim(&self, job: &Job, owner: &str) -> Result<bool>;

    /// Complete a running attempt with `result`; false when the lease does not hold.
    fn job_complete(&self, end: &AttemptEnd<'_>, result: &serde_json::Value) -> Result<bool>;

    /// Queue a running attempt again at `retry_at`; false when the lease does not hold.
    fn job_retry(
        &self,
        end: &AttemptEnd<'_>,
        failure: &AttemptFailure<'_>,
        retry_at: i64,
    ) -> Result<bool>;

    /// Fail a running attempt for good; false when the lease does not hold.
    fn job_fail(&self, end: &AttemptEnd<'_>, failure: &AttemptFailure<'_>) -> Result<bool>;

    /// Give a running attempt back to the queue uncounted; false when the lease does not hold.
    fn job_release(&self, lease: Lease<'_>, now: i64) -> Result<bool>;

    /// Save progress and cost of a running attempt; false when the lease does not hold.
    fn job_progress_update(
        &self,
        lease: Lease<'_>,
        progress: Progress,
        cost_actual: f64,
        now: i64,
    ) -> Result<bool>;

    /// Cancel an unfinished job and its unfinished descendants; the ids cancelled, in no order.
    fn job_cancel(&self, id: &str, now: i64) -> Result<Vec<String>>;

    /// Pause a queued or running job; false when it is neither.
    fn job_pause(&self, id: &str, reason: PauseReason, now: i64) -> Result<bool>;

    /// Queue a paused job again in its old place; false when it is not paused.
    fn job_resume(&self, id: &str, now: i64) -> Result<bool>;

    /// Queue a failed job again with `attempts` more attempts, to run now; false when it has
    /// not failed.
    fn job_requeue_failed(&self, id: &str, attempts: u32, now: i64) -> Result<bool>;

    /// Extend the leases of the claims `held` (job id, claim number) that `owner` still runs;
    /// how many.
    fn job_leases_renew(&self, held: &[(String, u32)], owner: &str, until: i64) -> Result<usize>;

    /// Of the claims `held`, the jobs no longer running under that claim and `owner`'s lease.
    fn job_ids_interrupted(&self, held: &[(String, u32)], owner: &str) -> Result<Vec<String>>;

    /// Queue again the running jobs whose lease expired before `now` and that have attempts
    /// left; their ids.
    fn job_rescue_requeue(&self, now: i64) -> Result<Vec<String>>;

    /// Fail the running jobs whose lease expired before `now` on their last attempt; their ids.
    fn job_rescue_fail(&self, now: i64) -> Result<Vec<String>>;

    /// Delete up to `batch` jobs finished before `before`, keeping those with a cost that
    /// finished after `costs_after`; their ids.
    fn job_prune(&self, before: i64, costs_after: i64, batch: u32) -> Result<Vec<String>>;
}
