//! Jobs: enqueue one or a batch, read, list, steer, and read their logs.

use std::path::PathBuf;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use qntx_core::ats::when::{self, Edge};
use qntx_core::clock::now_ms;
use qntx_core::pulse::listing;
use qntx_core::pulse::request::JobRequest;
use qntx_core::pulse::store::Enqueued;
use qntx_core::pulse::{
    DEFAULT_MAX_ATTEMPTS, Job, JobFilter, JobPage, LogLine, NewJob, PauseReason, SourceMatch, store,
};
use qntx_core::storage::Store;
use qntx_core::tokens::Scope;
use qntx_node::handlers::{self, EnqueueError};
use qntx_node::plugins::Catalog;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::{self, Body};
use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// The source of jobs the API enqueues unless a request names one.
pub(crate) const API_SOURCE: &str = "api";

/// Most jobs in one batch request.
const MAX_BATCH: usize = 100_000;

/// `POST /api/v1/jobs`: a job request, and `allow_unregistered` to skip the check that someone
/// serves it. (Not a struct with the request flattened in: serde's `flatten` would let
/// unknown fields through.)
type EnqueueBody = serde_json::Map<String, Value>;

/// `POST /api/v1/jobs/batch`: jobs enqueued in one transaction, all or none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchBody {
    jobs: Vec<JobRequest>,
    #[serde(default)]
    allow_unregistered: bool,
}

/// The answer to a batch: ids in the order of the request.
#[derive(Debug, Serialize)]
pub(super) struct BatchEnqueued {
    jobs: Vec<Enqueued>,
}

/// What a request leaves out: as the CLI's flags (an empty payload), with the API's source.
fn defaults() -> NewJob {
    NewJob {
        source: API_SOURCE.to_owned(),
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        ..NewJob::new(String::new(), Value::Object(serde_json::Map::new()))
    }
}

/// `POST /api/v1/jobs` (scope `enqueue`): 201 with the new job's id, or 200 with the id of the
/// active job a `unique` request matched.
pub(super) async fn enqueue(
    State(state): State<AppState>,
    caller: Caller,
    Body(mut body): Body<EnqueueBody>,
) -> Result<(StatusCode, Json<Enqueued>), ApiError> {
    caller.require(Scope::Enqueue)?;
    let allow_unregistered = match body.remove("allow_unregistered") {
        None => false,
        Some(Value::Bool(allow)) => allow,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "allow_unregistered must be true or false, not {other}"
            )));
        }
    };
    let request: JobRequest = serde_json::from_value(Value::Object(body))
        .map_err(|error| ApiError::invalid(format!("the job: {error}")))?;
    let now = now_ms();
    let job = request.into_job(&defaults(), now)?;
    let plugin_dirs = state.node().plugin_dirs.clone();
    let enqueued = state
        .store(move |conn| {
            if !allow_unregistered {
                admit(conn.store(), &job.handler, &plugin_dirs)?;
            }
            Ok(store::enqueue(conn.store(), &job, now)?)
        })
        .await?;
    Ok(json::enqueued(enqueued))
}

/// `POST /api/v1/jobs/batch` (scope `enqueue`): every job or none; an error names the index of
/// the job it is about.
pub(super) async fn enqueue_batch(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<BatchBody>,
) -> Result<(StatusCode, Json<BatchEnqueued>), ApiError> {
    caller.require(Scope::Enqueue)?;
    if body.jobs.is_empty() {
        return Err(ApiError::invalid("the batch has no jobs"));
    }
    if body.jobs.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "the batch has {} jobs; at most {MAX_BATCH} per request",
            body.jobs.len()
        )));
    }
    let now = now_ms();
    let defaults = defaults();
    let jobs = body
        .jobs
        .into_iter()
        .enumerate()
        .map(|(index, request)| {
            request
                .into_job(&defaults, now)
                .map_err(|error| ApiError::invalid(format!("jobs[{index}]: {error}")))
        })
        .collect::<Result<Vec<NewJob>, ApiError>>()?;
    let plugin_dirs = state.node().plugin_dirs.clone();
    let enqueued = state
        .store(move |conn| {
            if !body.allow_unregistered {
                let mut handlers: Vec<&str> = jobs.iter().map(|job| job.handler.as_str()).collect();
                handlers.sort_unstable();
                handlers.dedup();
                for handler in handlers {
                    admit(conn.store(), handler, &plugin_dirs)?;
                }
            }
            Ok(store::enqueue_batch(conn, &jobs, now)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(BatchEnqueued { jobs: enqueued })))
}

/// Refuse a job for a handler nobody serves ([`handlers::check_enqueue`]), as the CLI does.
fn admit(store: &dyn Store, handler: &str, plugin_dirs: &[PathBuf]) -> Result<(), ApiError> {
    handlers::check_enqueue(store, handler, &RecordedPlugins(plugin_dirs)).map_err(|error| {
        match error {
            EnqueueError::Unannounced { .. } | EnqueueError::Handler(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unserved",
                error.to_string(),
            ),
            EnqueueError::Pulse(error) => error.into(),
            EnqueueError::Records(error) => error.into(),
            error => ApiError::internal(&error),
        }
    })
}

/// The node's plugin directories, as the node recorded them: the node loads new files itself,
/// so the API loads none.
struct RecordedPlugins<'a>(&'a [PathBuf]);

impl handlers::PluginSource for RecordedPlugins<'_> {
    fn dirs(&self) -> anyhow::Result<Vec<PathBuf>> {
        Ok(self.0.to_vec())
    }

    fn load(&self, _files: &[PathBuf]) -> anyhow::Result<Catalog> {
        Ok(Catalog::default())
    }
}

/// `GET /api/v1/jobs/{id}` (scope `read`): the job (a unique id prefix is enough).
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    caller.require(Scope::Read)?;
    let job = state
        .store(move |conn| {
            let id = store::resolve_id(conn.store(), &id)?;
            Ok(store::get(conn.store(), &id)?)
        })
        .await?;
    Ok(Json(job))
}

/// Filters of `GET /api/v1/jobs`: `status` takes several, comma-separated; `source` ending
/// in `*` matches by prefix (`job:*`); `since` and `until` are times as `qntx ax` reads them
/// (RFC 3339, a date, `2 hours ago`); `cursor` is a page's `next_cursor`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    status: Option<String>,
    handler: Option<String>,
    source: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/jobs` (scope `read`): a page of jobs, newest first, and the cursor of the next.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<JobPage>, ApiError> {
    caller.require(Scope::Read)?;
    let now = now_ms();
    let time = |name: &str, text: Option<String>, edge| {
        text.map(|text| when::parse(&text, now, edge))
            .transpose()
            .map_err(|error| ApiError::invalid(format!("{name}: {error}")))
    };
    let filter = JobFilter {
        statuses: match params.status.as_deref() {
            Some(text) => listing::parse_statuses(text)?,
            None => Vec::new(),
        },
        handler: params.handler,
        source: params.source.as_deref().map(|text| {
            text.parse::<SourceMatch>()
                .unwrap_or_else(|never| match never {})
        }),
        since: time("since", params.since, Edge::Start)?,
        until: time("until", params.until, Edge::End)?,
        cursor: params.cursor,
        limit: params.limit,
    };
    let page = state
        .store(move |conn| Ok(store::list(conn.store(), &filter)?))
        .await?;
    Ok(Json(page))
}

/// Where `GET /api/v1/jobs/{id}/logs` starts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogParams {
    #[serde(default)]
    after: i64,
}

/// A numbered log line; `number` is what `after` takes to read on from it.
#[derive(Debug, Serialize)]
pub(super) struct NumberedLine {
    number: i64,
    #[serde(flatten)]
    line: LogLine,
}

/// Log lines after a number.
#[derive(Debug, Serialize)]
pub(super) struct Logs {
    lines: Vec<NumberedLine>,
}

/// `GET /api/v1/jobs/{id}/logs?after=N` (scope `read`): the job's log lines after line N.
pub(super) async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<LogParams>,
) -> Result<Json<Logs>, ApiError> {
    caller.require(Scope::Read)?;
    let lines = state
        .store(move |conn| {
            let id = store::resolve_id(conn.store(), &id)?;
            Ok(store::logs(conn.store(), &id, params.after)?)
        })
        .await?;
    Ok(Json(Logs {
        lines: lines
            .into_iter()
            .map(|(number, line)| NumberedLine { number, line })
            .collect(),
    }))
}

/// What `POST /api/v1/jobs/{id}/cancel` cancelled: the job and its unfinished descendants.
#[derive(Debug, Serialize)]
pub(super) struct Cancelled {
    cancelled: Vec<String>,
}

/// `POST /api/v1/jobs/{id}/cancel` (scope `enqueue`): cancel the job and its unfinished child
/// jobs; a running guest is interrupted on whichever node runs it.
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    caller.require(Scope::Enqueue)?;
    let cancelled = state
        .store(move |conn| {
            let id = store::resolve_id(conn.store(), &id)?;
            Ok(store::cancel(conn.store(), &id, now_ms())?)
        })
        .await?;
    Ok(Json(Cancelled { cancelled }))
}

/// `POST /api/v1/jobs/{id}/pause` (scope `enqueue`): the job, paused.
pub(super) async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    steer(state, caller, id, |store, id| {
        store::pause(store, id, PauseReason::User, now_ms())
    })
    .await
}

/// `POST /api/v1/jobs/{id}/resume` (scope `enqueue`): the paused job, queued again.
pub(super) async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    steer(state, caller, id, |store, id| {
        store::resume(store, id, now_ms())
    })
    .await
}

/// The body of `POST /api/v1/jobs/{id}/retry`, optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RetryBody {
    attempts: Option<u32>,
}

/// `POST /api/v1/jobs/{id}/retry` (scope `enqueue`): the failed job, queued again with
/// `attempts` more attempts (default 1, at most 1000).
pub(super) async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Job>, ApiError> {
    let body: RetryBody = if body.iter().all(u8::is_ascii_whitespace) {
        RetryBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::invalid(format!("the retry body: {error}")))?
    };
    let attempts = body.attempts.unwrap_or(1);
    if !(1..=1000).contains(&attempts) {
        return Err(ApiError::invalid(format!(
            "attempts {attempts} is outside 1..=1000"
        )));
    }
    steer(state, caller, id, move |store, id| {
        store::retry_failed(store, id, attempts, now_ms())
    })
    .await
}

/// Apply `change` to the job `id` names, then answer the job as it is now.
async fn steer(
    state: AppState,
    caller: Caller,
    id: String,
    change: impl FnOnce(&dyn Store, &str) -> qntx_core::pulse::Result<()> + Send + 'static,
) -> Result<Json<Job>, ApiError> {
    caller.require(Scope::Enqueue)?;
    let job = state
        .store(move |conn| {
            let id = store::resolve_id(conn.store(), &id)?;
            change(conn.store(), &id)?;
            Ok(store::get(conn.store(), &id)?)
        })
        .await?;
    Ok(Json(job))
}
