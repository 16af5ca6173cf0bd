//! Schedules and watchers: listed with `read`; schedules added, paused, resumed, run and
//! removed with `admin` (they enqueue jobs on their own), as `qntx schedule` does.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use qntx_core::clock::now_ms;
use qntx_core::pulse::request::parse_duration;
use qntx_core::pulse::store::Enqueued;
use qntx_core::pulse::triggers::{Schedule, ScheduleSpec, store};
use qntx_core::tokens::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::{self, Body};
use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// `POST /api/v1/schedules`: a job for `handler` every `every` (`30s`, `5m`, `1h`; at least
/// 1 s), with `payload` (default `{}`), paused if `paused`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewSchedule {
    handler: String,
    every: String,
    #[serde(default = "empty_object")]
    payload: Value,
    #[serde(default)]
    paused: bool,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// `GET /api/v1/schedules` (scope `read`): every schedule, plugins' and users', as `qntx
/// schedule list --json`.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let schedules = state
        .store(|conn| Ok(store::list_schedules(conn.store())?))
        .await?;
    Ok(Json(json!({ "schedules": schedules })))
}

/// `POST /api/v1/schedules` (scope `admin`): 201 with the schedule added.
pub(super) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewSchedule>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    caller.require(Scope::Admin)?;
    let every = parse_duration(&body.every)
        .map_err(|error| ApiError::invalid(format!("every: {error}")))?;
    let spec = ScheduleSpec {
        handler: body.handler,
        interval_ms: i64::try_from(every.as_millis()).unwrap_or(i64::MAX),
        enabled: !body.paused,
        payload: body.payload,
    };
    let schedule = state
        .store(move |conn| Ok(store::add_schedule(conn.store(), &spec, now_ms())?))
        .await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

/// `POST /api/v1/schedules/{id}/pause` (scope `admin`): the schedule, no longer firing.
pub(super) async fn pause(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<Json<Schedule>, ApiError> {
    set_enabled(state, caller, id, false).await
}

/// `POST /api/v1/schedules/{id}/resume` (scope `admin`): the schedule, firing again one
/// interval from now.
pub(super) async fn resume(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> Result<Json<Schedule>, ApiError> {
    set_enabled(state, caller, id, true).await
}

async fn set_enabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    enabled: bool,
) -> Result<Json<Schedule>, ApiError> {
    caller.require(Scope::Admin)?;
    let schedule = state
        .store(move |conn| {
            store::set_enabled(conn.store(), &id, enabled, now_ms())?;
            Ok(store::get_schedule(conn.store(), &id)?)
        })
        .await?;
    Ok(Json(schedule))
}

/// `POST /api/v1/schedules/{id}/run` (scope `admin`): enqueue the schedule's job now; 201
/// with its id, or 200 with the id of its previous job while that one is still active.
pub(super) async fn run_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Enqueued>), ApiError> {
    caller.require(Scope::Admin)?;
    let enqueued = state
        .store(move |conn| Ok(store::run_now(conn.store(), &id, now_ms())?))
        .await?;
    Ok(json::enqueued(enqueued))
}

/// `DELETE /api/v1/schedules/{id}` (scope `admin`): delete a schedule a user added (a
/// plugin's is paused instead).
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Admin)?;
    let removed = state
        .store(move |conn| {
            store::remove_schedule(conn.store(), &id)?;
            Ok(id)
        })
        .await?;
    Ok(Json(json!({ "removed": removed })))
}

/// `GET /api/v1/watchers` (scope `read`): the watchers plugins announced, as `qntx schedule
/// watchers --json`.
pub(super) async fn watchers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let watchers = state
        .store(|conn| Ok(store::list_watchers(conn.store())?))
        .await?;
    Ok(Json(json!({ "watchers": watchers })))
}
