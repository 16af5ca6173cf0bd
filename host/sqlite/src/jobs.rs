//! The job statements ([`storage::Jobs`]) on SQLite: reads, the insert and the claim here; the
//! guarded transitions of running and stopped jobs in [`transitions`](super::transitions).

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

use super::OrStorage;
use super::backend::SqliteConnection;
use super::job_list;
use crate::pulse::listing::{HandlerCount, JobQuery};
use crate::pulse::{Activity, AttemptNode, Job, Lease, Progress};
use crate::storage::{self, ClaimWrite, JobInsert};

use super::values::{json_list, sql, sql_int};

/// The position of `seq` (enqueue order) after the job's columns in `job_claim`.
const CLAIM_SEQ_COLUMN: usize = 28;

/// Ids returned by a statement with parameters `params`.
pub(super) fn ids(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> storage::Result<Vec<String>> {
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(params, |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .or_storage()
}

impl storage::Jobs for SqliteConnection {
    fn job_find_active(&self, handler: &str, source: &str) -> storage::Result<Option<String>> {
        self.sql()
            .prepare_cached(sql!("job_find_active"))
            .and_then(|mut s| {
                s.query_row(params![handler, source], |row| row.get(0))
                    .optional()
            })
            .or_storage()
    }

    fn job_insert(&self, insert: &JobInsert<'_>) -> storage::Result<()> {
        let job = insert.job;
        self.sql()
            .prepare_cached(sql!("job_insert"))
            .and_then(|mut s| {
                s.execute(params![
                    insert.id,
                    job.handler,
                    insert.payload,
                    job.source,
                    job.priority,
                    job.max_attempts,
                    job.run_at.unwrap_or(insert.now),
                    job.timeout_ms.map(sql_int),
                    job.cost_estimate,
                    job.parent_job_id,
                    insert.now,
                    job.root_job_id,
                    job.depth,
                ])
            })
            .map(drop)
            .or_storage()
    }

    fn job_get(&self, id: &str) -> storage::Result<Option<Job>> {
        self.sql()
            .prepare_cached(sql!("job_get"))
            .and_then(|mut s| s.query_row([id], from_row).optional())
            .or_storage()
    }

    fn job_ids_with_prefix(&self, prefix: &str) -> storage::Result<Vec<String>> {
        // ULIDs use digits and capitals only, so every id with this prefix sorts below
        // `prefix~`.
        let upper = format!("{prefix}~");
        ids(
            self.sql(),
            sql!("job_ids_by_prefix"),
            params![prefix, upper],
        )
    }

    fn job_list(&self, query: &JobQuery) -> storage::Result<Vec<Job>> {
        let plan = job_list::plan(query);
        self.sql()
            .prepare_cached(&plan.sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(plan.args), from_row)?
                    .collect()
            })
            .or_storage()
    }

    fn job_count_by_status(&self) -> storage::Result<Vec<HandlerCount>> {
        self.sql()
            .prepare_cached(sql!("job_count_by_status"))
            .and_then(|mut s| {
                s.query_map([], |row| {
                    let status: String = row.get(1)?;
                    Ok(HandlerCount {
                        handler: row.get(0)?,
                        status: status.parse().map_err(|e: String| {
                            rusqlite::Error::FromSqlConversionFailure(
                                1,
                                rusqlite::types::Type::Text,
                                e.into(),
                            )
                        })?,
                        count: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    })
                })?
                .collect()
            })
            .or_storage()
    }

    fn job_count_unserved(&self, served: &[String]) -> storage::Result<Vec<(String, u64)>> {
        self.sql()
            .prepare_cached(sql!("job_count_unserved"))
            .and_then(|mut s| {
                s.query_map([json_list(&served)], |row| {
                    let count = row.get::<_, i64>(1)?;
                    Ok((row.get(0)?, u64::try_from(count).unwrap_or(0)))
                })?
                .collect()
            })
            .or_storage()
    }

    fn job_count_active(&self, handlers: &[String], now: i64) -> storage::Result<Activity> {
        self.sql()
            .prepare_cached(sql!("job_count_active"))
            .and_then(|mut s| {
                s.query_row(params![json_list(&handlers), now], |row| {
                    Ok(Activity {
                        runnable: row.get::<_, i64>(0)? as u64,
                        running: row.get::<_, i64>(1)? as u64,
                        next_run_at: row.get(2)?,
                    })
                })
            })
            .or_storage()
    }

    fn job_count_descendants(&self, root: &str) -> storage::Result<u64> {
        let count: i64 = self
            .sql()
            .prepare_cached(sql!("job_count_descendants"))
            .and_then(|mut s| s.query_row([root], |row| row.get(0)))
            .or_storage()?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    fn job_claim(&self, claim: &ClaimWrite<'_>) -> storage::Result<Vec<Job>> {
        let mut jobs = self
            .sql()
            .prepare_cached(sql!("job_claim"))
            .and_then(|mut s| {
                s.query_map(
                    params![
                        claim.owner,
                        claim.lease_until,
                        claim.now,
                        json_list(&claim.handlers),
                        claim.limit
                    ],
                    |row| Ok((row.get::<_, i64>(CLAIM_SEQ_COLUMN)?, from_row(row)?)),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .or_storage()?;
        // RETURNING gives no order; restore the claim order.
        jobs.sort_by(|(a_seq, a), (b_seq, b)| {
            b.priority
                .cmp(&a.priority)
                .then(a.run_at.cmp(&b.run_at))
                .then(a_seq.cmp(b_seq))
        });
        Ok(jobs.into_iter().map(|(_, job)| job).collect())
    }

    fn job_unclaim(&self, job: &Job, owner: &str) -> storage::Result<bool> {
        let changed = self
            .sql()
            .prepare_cached(sql!("job_unclaim"))
            .and_then(|mut s| s.execute(params![job.id, job.claims, owner]))
            .or_storage()?;
        Ok(changed > 0)
    }

    fn job_complete(&self, end: &storage::AttemptEnd<'_>, result: &Value) -> storage::Result<bool> {
        super::transitions::complete(self.sql(), end, result)
    }

    fn job_retry(
        &self,
        end: &storage::AttemptEnd<'_>,
        failure: &storage::AttemptFailure<'_>,
        retry_at: i64,
    ) -> storage::Result<bool> {
        super::transitions::retry(self.sql(), end, failure, retry_at)
    }

    fn job_fail(
        &self,
        end: &storage::AttemptEnd<'_>,
        failure: &storage::AttemptFailure<'_>,
    ) -> storage::Result<bool> {
        super::transitions::fail(self.sql(), end, failure)
    }

    fn job_release(&self, lease: Lease<'_>, now: i64) -> storage::Result<bool> {
        super::transitions::release(self.sql(), lease, now)
    }

    fn job_progress_update(
        &self,
        lease: Lease<'_>,
        progress: Progress,
        cost_actual: f64,
        now: i64,
    ) -> storage::Result<bool> {
        super::transitions::progress_update(self.sql(), lease, progress, cost_actual, now)
    }

    fn job_cancel(&self, id: &str, now: i64) -> storage::Result<Vec<String>> {
        ids(self.sql(), sql!("job_cancel"), params![id, now])
    }

    fn job_pause(
        &self,
        id: &str,
        reason: crate::pulse::PauseReason,
        now: i64,
    ) -> storage::Result<bool> {
        super::transitions::returned_row(
            self.sql(),
            sql!("job_pause"),
            params![id, reason.as_str(), now],
        )
    }

    fn job_resume(&self, id: &str, now: i64) -> storage::Result<bool> {
        super::transitions::returned_row(self.sql(), sql!("job_resume"), params![id, now])
    }

    fn job_requeue_failed(&self, id: &str, attempts: u32, now: i64) -> storage::Result<bool> {
        super::transitions::returned_row(
            self.sql(),
            sql!("job_requeue_failed"),
            params![id, attempts, now],
        )
    }

    fn job_leases_renew(
        &self,
        held: &[(String, u32)],
        owner: &str,
        until: i64,
    ) -> storage::Result<usize> {
        self.sql()
            .prepare_cached(sql!("job_leases_renew"))
            .and_then(|mut s| s.execute(params![json_list(&held), owner, until]))
            .or_storage()
    }

    fn job_ids_interrupted(
        &self,
        held: &[(String, u32)],
        owner: &str,
    ) -> storage::Result<Vec<String>> {
        ids(
            self.sql(),
            sql!("job_ids_interrupted"),
            params![json_list(&held), owner],
        )
    }

    fn job_rescue_requeue(&self, now: i64) -> storage::Result<Vec<String>> {
        ids(self.sql(), sql!("job_rescue_requeue"), [now])
    }

    fn job_rescue_fail(&self, now: i64) -> storage::Result<Vec<String>> {
        ids(self.sql(), sql!("job_rescue_fail"), [now])
    }

    fn job_prune(&self, before: i64, costs_after: i64, batch: u32) -> storage::Result<Vec<String>> {
        ids(
            self.sql(),
            sql!("job_prune"),
            params![before, costs_after, batch],
        )
    }
}

/// A job from a row of the job columns, in the order of the column lists in `sql/` (looking
/// columns up by name costs more than the rest of the row).
pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let malformed = |index: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e)
    };
    let json = |index: usize| -> rusqlite::Result<Option<Value>> {
        let text: Option<String> = row.get(index)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| malformed(index, e.into())))
            .transpose()
    };
    let parse =
        |index: usize, text: String| text.parse().map_err(|e: String| malformed(index, e.into()));
    let pause_reason: Option<String> = row.get(5)?;
    Ok(Job {
        id: row.get(0)?,
        handler: row.get(1)?,
        payload: json(2)?.unwrap_or(Value::Null),
        source: row.get(3)?,
        status: parse(4, row.get(4)?)?,
        pause_reason: pause_reason
            .map(|r| r.parse().map_err(|e: String| malformed(5, e.into())))
            .transpose()?,
        priority: row.get(6)?,
        attempt: row.get(7)?,
        claims: row.get(8)?,
        max_attempts: row.get(9)?,
        run_at: row.get(10)?,
        timeout_ms: row
            .get::<_, Option<i64>>(11)?
            .map(|t| u64::try_from(t).unwrap_or_default()),
        progress: Progress {
            current: u64::try_from(row.get::<_, i64>(12)?).unwrap_or_default(),
            total: u64::try_from(row.get::<_, i64>(13)?).unwrap_or_default(),
        },
        cost_estimate: row.get(14)?,
        cost_actual: row.get(15)?,
        result: json(16)?,
        error: row.get(17)?,
        error_details: json(18)?,
        parent_job_id: row.get(19)?,
        plugin_version: row.get(20)?,
        created_at: row.get(21)?,
        started_at: row.get(22)?,
        completed_at: row.get(23)?,
        updated_at: row.get(24)?,
        root_job_id: row.get(25)?,
        depth: row.get(26)?,
        nodes: json(27)?
            .map(serde_json::from_value::<Vec<AttemptNode>>)
            .transpose()
            .map_err(|e| malformed(27, e.into()))?
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteBackend;
    use crate::pulse::{JobStatus, NewJob, Report, store};
    use crate::storage::{AttemptEnd, Jobs as _};

    fn claim_all(conn: &SqliteConnection, owner: &str) -> Vec<Job> {
        let handler = "h/a".to_owned();
        conn.job_claim(&ClaimWrite {
            handlers: &[&handler],
            owner,
            lease_until: 1_000,
            limit: 10,
            now: 0,
        })
        .unwrap()
    }

    #[test]
    fn a_claim_returns_jobs_most_urgent_first_and_guards_report_a_miss() {
        let backend = SqliteBackend::temporary().unwrap();
        let conn = backend.connection().unwrap();
        for (id, priority) in [("LOW", 0), ("HIGH", 5), ("LOW2", 0)] {
            let job = NewJob {
                id: Some(id.into()),
                priority,
                ..NewJob::new("h/a", serde_json::json!({}))
            };
            store::enqueue(&conn, &job, 0).unwrap();
        }
        let claimed: Vec<String> = claim_all(&conn, "n").into_iter().map(|j| j.id).collect();
        assert_eq!(claimed, ["HIGH", "LOW", "LOW2"]);
        let report = Report {
            progress: Progress::default(),
            cost_actual: 0.0,
            plugin_version: "1",
        };
        let lease = |owner| Lease {
            id: "HIGH",
            attempt: 1,
            claim: 1,
            owner,
        };
        let end = |owner| AttemptEnd {
            lease: lease(owner),
            report: &report,
            now: 1,
        };
        assert!(!conn.job_complete(&end("other"), &Value::Null).unwrap());
        assert!(conn.job_complete(&end("n"), &Value::Null).unwrap());
        assert!(
            !conn.job_complete(&end("n"), &Value::Null).unwrap(),
            "a completed job is not running"
        );
        assert_eq!(
            conn.job_get("HIGH").unwrap().unwrap().status,
            JobStatus::Completed
        );
        assert_eq!(conn.job_get("NONE").unwrap(), None);
    }
}
