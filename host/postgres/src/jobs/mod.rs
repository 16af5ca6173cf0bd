//! The job statements ([`storage::Jobs`]) on PostgreSQL: reads, the insert and the claim here;
//! the guarded transitions of running and stopped jobs in [`transitions`].

mod list;
mod transitions;
pub(crate) mod values;

use serde_json::Value;
use tokio_postgres::Row;

use super::PostgresConnection;
use crate::pulse::listing::{HandlerCount, JobQuery};
use crate::pulse::{Activity, AttemptNode, Job, Lease, PauseReason, Progress};
use crate::storage::{self, AttemptEnd, AttemptFailure, ClaimWrite, JobInsert};
use values::{count, get, ids, int, small};

/// Jobs per statement of [`storage::Jobs::job_insert_many`].
const INSERT_CHUNK: usize = 5_000;

/// A batch this large is a bulk load: the planner's statistics of `jobs` are looked at after it.
const BULK: usize = 1_000;

impl PostgresConnection {
    /// `ANALYZE jobs` when its statistics count fewer rows than a bulk load just inserted.
    ///
    /// A table that grew from empty within autovacuum's nap (a minute) still has the
    /// statistics of an empty table, and the claim is then planned as a scan and sort of
    /// every queued job (milliseconds per claim at 20,000) instead of a walk of
    /// `jobs_runnable` that stops at its limit (tens of microseconds). PostgreSQL's advice
    /// after a bulk load is to analyze; inside this transaction the new rows count.
    fn analyze_jobs_if_stale(&self, inserted: usize) -> storage::Result<()> {
        let estimated: f32 = self
            .query_one(
                "SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass",
                &[],
            )?
            .get(0);
        if f64::from(estimated) < inserted as f64 {
            self.batch("ANALYZE jobs")?;
        }
        Ok(())
    }
}

impl storage::Jobs for PostgresConnection {
    fn job_find_active(&self, handler: &str, source: &str) -> storage::Result<Option<String>> {
        self.query_opt(
            include_str!("../sql/job_find_active.sql"),
            &[&handler, &source],
        )?
        .map(|row| get(&row, 0))
        .transpose()
    }

    fn job_insert(&self, insert: &JobInsert<'_>) -> storage::Result<()> {
        let job = insert.job;
        self.execute(
            include_str!("../sql/job_insert.sql"),
            &[
                &insert.id,
                &job.handler,
                &insert.payload,
                &job.source,
                &job.priority,
                &i64::from(job.max_attempts),
                &job.run_at.unwrap_or(insert.now),
                &job.timeout_ms.map(int),
                &job.cost_estimate,
                &job.parent_job_id,
                &insert.now,
                &job.root_job_id,
                &i64::from(job.depth),
            ],
        )?;
        // A new job is runnable now or changes when the next one is: waiters look again.
        self.changed()
    }

    fn job_insert_many(&self, inserts: &[JobInsert<'_>]) -> storage::Result<()> {
        let Some(first) = inserts.first() else {
            return Ok(());
        };
        let now = first.now;
        for chunk in inserts.chunks(INSERT_CHUNK) {
            let column =
                |f: &dyn Fn(&JobInsert<'_>) -> String| chunk.iter().map(f).collect::<Vec<_>>();
            let ids = column(&|i| i.id.to_owned());
            let handlers = column(&|i| i.job.handler.clone());
            let payloads = column(&|i| i.payload.to_owned());
            let sources = column(&|i| i.job.source.clone());
            let priorities: Vec<i32> = chunk.iter().map(|i| i.job.priority).collect();
            let attempts: Vec<i64> = chunk
                .iter()
                .map(|i| i64::from(i.job.max_attempts))
                .collect();
            let run_at: Vec<i64> = chunk
                .iter()
                .map(|i| i.job.run_at.unwrap_or(i.now))
                .collect();
            let timeouts: Vec<Option<i64>> =
                chunk.iter().map(|i| i.job.timeout_ms.map(int)).collect();
            let costs: Vec<f64> = chunk.iter().map(|i| i.job.cost_estimate).collect();
            let parents: Vec<Option<String>> =
                chunk.iter().map(|i| i.job.parent_job_id.clone()).collect();
            let roots: Vec<Option<String>> =
                chunk.iter().map(|i| i.job.root_job_id.clone()).collect();
            let depths: Vec<i64> = chunk.iter().map(|i| i64::from(i.job.depth)).collect();
            self.execute(
                include_str!("../sql/job_insert_many.sql"),
                &[
                    &ids,
                    &handlers,
                    &payloads,
                    &sources,
                    &priorities,
                    &attempts,
                    &run_at,
                    &timeouts,
                    &costs,
                    &parents,
                    &now,
                    &roots,
                    &depths,
                ],
            )?;
        }
        if inserts.len() >= BULK {
            self.analyze_jobs_if_stale(inserts.len())?;
        }
        self.changed()
    }

    fn job_get(&self, id: &str) -> storage::Result<Option<Job>> {
        self.query_opt(include_str!("../sql/job_get.sql"), &[&id])?
            .map(|row| from_row(&row))
            .transpose()
    }

    fn job_ids_with_prefix(&self, prefix: &str) -> storage::Result<Vec<String>> {
        // ULIDs use digits and capitals only, so every id with this prefix sorts below
        // `prefix~` (ids compare bytewise: `COLLATE "C"`).
        let upper = format!("{prefix}~");
        ids(&self.query(
            include_str!("../sql/job_ids_by_prefix.sql"),
            &[&prefix, &upper],
        )?)
    }

    fn job_list(&self, query: &JobQuery) -> storage::Result<Vec<Job>> {
        let plan = list::plan(query);
        let rows = self.query_planned(&plan.sql, &plan.params())?;
        rows.iter().map(from_row).collect()
    }

    fn job_count_by_status(&self) -> storage::Result<Vec<HandlerCount>> {
        let rows = self.query(include_str!("../sql/job_count_by_status.sql"), &[])?;
        rows.iter()
            .map(|row| {
                let status: String = get(row, 1)?;
                Ok(HandlerCount {
                    handler: get(row, 0)?,
                    status: status.parse().map_err(storage::Error::Corrupt)?,
                    count: count(row, 2)?,
                })
            })
            .collect()
    }

    fn job_count_unserved(&self, served: &[String]) -> storage::Result<Vec<(String, u64)>> {
        let rows = self.query(include_str!("../sql/job_count_unserved.sql"), &[&served])?;
        rows.iter()
            .map(|row| Ok((get(row, 0)?, count(row, 1)?)))
            .collect()
    }

    fn job_count_active(&self, handlers: &[String], now: i64) -> storage::Result<Activity> {
        let row = self.query_one(
            include_str!("../sql/job_count_active.sql"),
            &[&handlers, &now],
        )?;
        Ok(Activity {
            runnable: count(&row, 0)?,
            running: count(&row, 1)?,
            next_run_at: get(&row, 2)?,
        })
    }

    fn job_count_descendants(&self, root: &str) -> storage::Result<u64> {
        let row = self.query_one(include_str!("../sql/job_count_descendants.sql"), &[&root])?;
        count(&row, 0)
    }

    fn job_claim(&self, claim: &ClaimWrite<'_>) -> storage::Result<Vec<Job>> {
        let rows = self.query(
            include_str!("../sql/job_claim.sql"),
            &[
                &claim.owner,
                &claim.lease_until,
                &claim.now,
                &claim.handlers,
                &i64::from(claim.limit),
            ],
        )?;
        rows.iter().map(from_row).collect()
    }

    fn job_unclaim(&self, job: &Job, owner: &str) -> storage::Result<bool> {
        let changed = self.execute(
            include_str!("../sql/job_unclaim.sql"),
            &[&job.id, &i64::from(job.claims), &owner],
        )?;
        Ok(changed > 0)
    }

    fn job_complete(&self, end: &AttemptEnd<'_>, result: &Value) -> storage::Result<bool> {
        transitions::complete(self, end, result)
    }

    fn job_retry(
        &self,
        end: &AttemptEnd<'_>,
        failure: &AttemptFailure<'_>,
        retry_at: i64,
    ) -> storage::Result<bool> {
        transitions::retry(self, end, failure, retry_at)
    }

    fn job_fail(
        &self,
        end: &AttemptEnd<'_>,
        failure: &AttemptFailure<'_>,
    ) -> storage::Result<bool> {
        transitions::fail(self, end, failure)
    }

    fn job_release(&self, lease: Lease<'_>, now: i64) -> storage::Result<bool> {
        transitions::release(self, lease, now)
    }

    fn job_progress_update(
        &self,
        lease: Lease<'_>,
        progress: Progress,
        cost_actual: f64,
        now: i64,
    ) -> storage::Result<bool> {
        transitions::progress_update(self, lease, progress, cost_actual, now)
    }

    fn job_cancel(&self, id: &str, now: i64) -> storage::Result<Vec<String>> {
        transitions::cancel(self, id, now)
    }

    fn job_pause(&self, id: &str, reason: PauseReason, now: i64) -> storage::Result<bool> {
        transitions::pause(self, id, reason, now)
    }

    fn job_resume(&self, id: &str, now: i64) -> storage::Result<bool> {
        transitions::resume(self, id, now)
    }

    fn job_requeue_failed(&self, id: &str, attempts: u32, now: i64) -> storage::Result<bool> {
        transitions::requeue_failed(self, id, attempts, now)
    }

    fn job_leases_renew(
        &self,
        held: &[(String, u32)],
        owner: &str,
        until: i64,
    ) -> storage::Result<usize> {
        let (ids, claims) = split(held);
        let renewed = self.execute(
            include_str!("../sql/job_leases_renew.sql"),
            &[&ids, &claims, &owner, &until],
        )?;
        Ok(usize::try_from(renewed).unwrap_or(usize::MAX))
    }

    fn job_ids_interrupted(
        &self,
        held: &[(String, u32)],
        owner: &str,
    ) -> storage::Result<Vec<String>> {
        let (ids_held, claims) = split(held);
        ids(&self.query(
            include_str!("../sql/job_ids_interrupted.sql"),
            &[&ids_held, &claims, &owner],
        )?)
    }

    fn job_rescue_requeue(&self, now: i64) -> storage::Result<Vec<String>> {
        transitions::rescue(self, include_str!("../sql/job_rescue_requeue.sql"), now)
    }

    fn job_rescue_fail(&self, now: i64) -> storage::Result<Vec<String>> {
        transitions::rescue(self, include_str!("../sql/job_rescue_fail.sql"), now)
    }

    fn job_prune(&self, before: i64, costs_after: i64, batch: u32) -> storage::Result<Vec<String>> {
        ids(&self.query(
            include_str!("../sql/job_prune.sql"),
            &[&before, &costs_after, &i64::from(batch)],
        )?)
    }
}

/// Claims `held` as two arrays, ids and claim numbers, for `unnest`.
fn split(held: &[(String, u32)]) -> (Vec<&str>, Vec<i64>) {
    held.iter()
        .map(|(id, claim)| (id.as_str(), i64::from(*claim)))
        .unzip()
}

/// A job from a row of the job columns, in the order of the column lists in `sql/`.
pub(crate) fn from_row(row: &Row) -> storage::Result<Job> {
    let json = |index: usize| -> storage::Result<Option<Value>> {
        let text: Option<&str> = get(row, index)?;
        text.map(|t| serde_json::from_str(t).map_err(|e| malformed(row, index, &e)))
            .transpose()
    };
    let status: &str = get(row, 4)?;
    let pause_reason: Option<&str> = get(row, 5)?;
    Ok(Job {
        id: get(row, 0)?,
        handler: get(row, 1)?,
        payload: json(2)?.unwrap_or(Value::Null),
        source: get(row, 3)?,
        status: status.parse().map_err(|e: String| malformed(row, 4, &e))?,
        pause_reason: pause_reason
            .map(|r| r.parse().map_err(|e: String| malformed(row, 5, &e)))
            .transpose()?,
        priority: get(row, 6)?,
        attempt: small(row, 7)?,
        claims: small(row, 8)?,
        max_attempts: small(row, 9)?,
        run_at: get(row, 10)?,
        timeout_ms: get::<Option<i64>>(row, 11)?.map(|t| u64::try_from(t).unwrap_or_default()),
        progress: Progress {
            current: count(row, 12)?,
            total: count(row, 13)?,
        },
        cost_estimate: get(row, 14)?,
        cost_actual: get(row, 15)?,
        result: json(16)?,
        error: get(row, 17)?,
        error_details: json(18)?,
        parent_job_id: get(row, 19)?,
        plugin_version: get(row, 20)?,
        created_at: get(row, 21)?,
        started_at: get(row, 22)?,
        completed_at: get(row, 23)?,
        updated_at: get(row, 24)?,
        root_job_id: get(row, 25)?,
        depth: small(row, 26)?,
        nodes: json(27)?
            .map(serde_json::from_value::<Vec<AttemptNode>>)
            .transpose()
            .map_err(|e| malformed(row, 27, &e))?
            .unwrap_or_default(),
    })
}

/// Column `index` of `row` holds what this build cannot read.
fn malformed(row: &Row, index: usize, error: &dyn std::fmt::Display) -> storage::Error {
    storage::Error::Corrupt(format!(
        "column '{}' of job: {error}",
        row.columns()[index].name()
    ))
}

#[cfg(test)]
mod tests;
