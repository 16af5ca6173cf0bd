//! STUB: the statements of Jobs (to be written).
#![allow(unused_variables, unused_imports)]

use super::PostgresConnection;
use crate::ats::*;
use crate::pulse::triggers::*;
use crate::pulse::*;
use crate::storage::{self, *};

impl Jobs for PostgresConnection {
    fn job_find_active(&self, handler: &str, source: &str) -> storage::Result<Option<String>> {
        unimplemented!("Jobs")
    }

    fn job_insert(&self, insert: &JobInsert<'_>) -> storage::Result<()> {
        unimplemented!("Jobs")
    }

    fn job_get(&self, id: &str) -> storage::Result<Option<Job>> {
        unimplemented!("Jobs")
    }

    fn job_ids_with_prefix(&self, prefix: &str) -> storage::Result<Vec<String>> {
        unimplemented!("Jobs")
    }

    fn job_list(
        &self,
        status: Option<JobStatus>,
        handler: Option<&str>,
        limit: u32,
    ) -> storage::Result<Vec<Job>> {
        unimplemented!("Jobs")
    }

    fn job_count_unserved(&self, served: &[String]) -> storage::Result<Vec<(String, u64)>> {
        unimplemented!("Jobs")
    }

    fn job_count_active(&self, handlers: &[String], now: i64) -> storage::Result<Activity> {
        unimplemented!("Jobs")
    }

    fn job_count_descendants(&self, root: &str) -> storage::Result<u64> {
        unimplemented!("Jobs")
    }

    fn job_claim(&self, claim: &ClaimWrite<'_>) -> storage::Result<Vec<Job>> {
        unimplemented!("Jobs")
    }

    fn job_unclaim(&self, job: &Job, owner: &str) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_complete(
        &self,
        end: &AttemptEnd<'_>,
        result: &serde_json::Value,
    ) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_retry(
        &self,
        end: &AttemptEnd<'_>,
        failure: &AttemptFailure<'_>,
        retry_at: i64,
    ) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_fail(
        &self,
        end: &AttemptEnd<'_>,
        failure: &AttemptFailure<'_>,
    ) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_release(&self, lease: Lease<'_>, now: i64) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_progress_update(
        &self,
        lease: Lease<'_>,
        progress: Progress,
        cost_actual: f64,
        now: i64,
    ) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_cancel(&self, id: &str, now: i64) -> storage::Result<Vec<String>> {
        unimplemented!("Jobs")
    }

    fn job_pause(&self, id: &str, reason: PauseReason, now: i64) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_resume(&self, id: &str, now: i64) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_requeue_failed(&self, id: &str, attempts: u32, now: i64) -> storage::Result<bool> {
        unimplemented!("Jobs")
    }

    fn job_leases_renew(
        &self,
        held: &[(String, u32)],
        owner: &str,
        until: i64,
    ) -> storage::Result<usize> {
        unimplemented!("Jobs")
    }

    fn job_ids_interrupted(
        &self,
        held: &[(String, u32)],
        owner: &str,
    ) -> storage::Result<Vec<String>> {
        unimplemented!("Jobs")
    }

    fn job_rescue_requeue(&self, now: i64) -> storage::Result<Vec<String>> {
        unimplemented!("Jobs")
    }

    fn job_rescue_fail(&self, now: i64) -> storage::Result<Vec<String>> {
        unimplemented!("Jobs")
    }

    fn job_prune(&self, before: i64, costs_after: i64, batch: u32) -> storage::Result<Vec<String>> {
        unimplemented!("Jobs")
    }
}
