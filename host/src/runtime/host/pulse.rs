//! `qntx:plugin/pulse`.

use super::store::parse_json;
use crate::clock::now_ms;
use crate::pulse::{self, DEFAULT_MAX_ATTEMPTS, NewJob, bounds};
use crate::runtime::JobCtx;
use crate::runtime::bindings::pulse::{self as wit, EnqueueRequest};
use crate::runtime::bindings::types::HostError;

impl wit::Host for JobCtx {
    fn enqueue(&mut self, request: EnqueueRequest) -> wasmtime::Result<Result<String, HostError>> {
        let limit = self.limits.child_jobs;
        let conn = self.conn.clone();
        let Some(scope) = &mut self.scope else {
            return Ok(Err(HostError::Denied(
                "enqueue is available only while running a job".into(),
            )));
        };
        if scope.children.len() >= limit {
            return Ok(Err(HostError::LimitExceeded(format!(
                "a job attempt may enqueue at most {limit} jobs"
            ))));
        }
        let depth = scope.depth.saturating_add(1);
        if let Err(error) = scope.tree.check_depth(depth) {
            return Ok(Err(HostError::LimitExceeded(error.to_string())));
        }
        let existing = match scope.descendants {
            Some(count) => count,
            None => {
                // Counted once per attempt; the commit checks again against the stored count.
                let count =
                    crate::sqlite::shared::descendants(&pulse::lock(&conn), &scope.root_job_id)
                        .map_err(|error| {
                            wasmtime::Error::msg(format!("counting the job tree: {error}"))
                        })?;
                *scope.descendants.insert(count)
            }
        };
        let adding = u64::try_from(scope.children.len()).unwrap_or(u64::MAX) + 1;
        if let Err(error) = scope
            .tree
            .check_descendants(&scope.root_job_id, existing, adding)
        {
            return Ok(Err(HostError::LimitExceeded(error.to_string())));
        }
        let payload_bytes = scope
            .child_payload_bytes
            .saturating_add(request.payload.len());
        if let Err(error) = bounds::check_payload_bytes(request.payload.len()) {
            return Ok(Err(HostError::LimitExceeded(error.to_string())));
        }
        if payload_bytes > bounds::MAX_CHILD_PAYLOADS_PER_ATTEMPT {
            return Ok(Err(HostError::LimitExceeded(format!(
                "the payloads of one attempt's child jobs may total {} bytes (16 MiB); this one \
                 would make {payload_bytes}",
                bounds::MAX_CHILD_PAYLOADS_PER_ATTEMPT
            ))));
        }
        let payload = match parse_json(&request.payload, "payload") {
            Ok(payload) => payload,
            Err(error) => return Ok(Err(error)),
        };
        let run_at = match bounds::run_at_after(now_ms(), request.delay_ms) {
            Ok(at) => at,
            Err(error) => return Ok(Err(HostError::InvalidArgument(error.to_string()))),
        };
        let id = ulid::Ulid::new().to_string();
        let job = NewJob {
            id: Some(id.clone()),
            handler: request.handler,
            payload,
            source: request
                .source
                .unwrap_or_else(|| format!("job:{}", scope.job_id)),
            priority: request.priority,
            max_attempts: request.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
            run_at: Some(run_at),
            timeout_ms: request.timeout_ms,
            cost_estimate: request.cost_estimate,
            parent_job_id: Some(scope.job_id.clone()),
            unique: request.unique,
            root_job_id: Some(scope.root_job_id.clone()),
            depth,
        };
        if let Err(error) = job.validate() {
            return Ok(Err(HostError::InvalidArgument(error.to_string())));
        }
        scope.child_payload_bytes = payload_bytes;
        scope.children.push(job);
        Ok(Ok(id))
    }
}
