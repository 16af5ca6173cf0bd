//! `qntx:plugin/pulse`.

use super::store::parse_json;
use crate::clock::now_ms;
use crate::pulse::{DEFAULT_MAX_ATTEMPTS, NewJob};
use crate::runtime::JobCtx;
use crate::runtime::bindings::pulse::{self, EnqueueRequest};
use crate::runtime::bindings::types::HostError;

impl pulse::Host for JobCtx {
    fn enqueue(&mut self, request: EnqueueRequest) -> wasmtime::Result<Result<String, HostError>> {
        let limit = self.limits.child_jobs;
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
        let payload = match parse_json(&request.payload, "payload") {
            Ok(payload) => payload,
            Err(error) => return Ok(Err(error)),
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
            run_at: Some(
                now_ms().saturating_add(i64::try_from(request.delay_ms).unwrap_or(i64::MAX)),
            ),
            timeout_ms: request.timeout_ms,
            cost_estimate: request.cost_estimate,
            parent_job_id: Some(scope.job_id.clone()),
            unique: request.unique,
        };
        if let Err(error) = job.validate() {
            return Ok(Err(HostError::InvalidArgument(error.to_string())));
        }
        scope.children.push(job);
        Ok(Ok(id))
    }
}
