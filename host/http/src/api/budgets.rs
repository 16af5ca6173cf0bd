//! Budgets: the spend limits Pulse enforces, shown and set as `qntx budget` does.

use axum::Json;
use axum::extract::{Path, State};
use qntx_core::clock::now_ms;
use qntx_core::pulse::{Period, store};
use qntx_core::storage::Store;
use qntx_core::tokens::Scope;
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::Body;
use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// `PUT /api/v1/budgets/{period}`: the new limit, or `null` to remove it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetLimit {
    limit: Option<f64>,
}

/// Each window's limit, settled spend and reservations, and the room now, as `qntx budget
/// show --json`.
fn budgets(store: &dyn Store) -> Result<Value, ApiError> {
    let limits = store::budget_limits(store)?;
    let spend = store::spend(store, now_ms())?;
    Ok(json!({ "limits": limits, "spend": spend, "headroom": limits.headroom(&spend) }))
}

/// `GET /api/v1/budgets` (scope `read`): limits, spend and room.
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let budgets = state.store(|conn| budgets(conn.store())).await?;
    Ok(Json(budgets))
}

/// `PUT /api/v1/budgets/{period}` (scope `admin`): set or remove the limit of `daily`,
/// `weekly` or `monthly`. It takes effect at the next claim on every node and is written to
/// the node's settings file, as `qntx budget set` does, so that a restart keeps it.
pub(super) async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Path(period): Path<String>,
    Body(body): Body<SetLimit>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Admin)?;
    let period: Period = period.parse().map_err(ApiError::not_found)?;
    let settings = state.node().settings.clone();
    let budgets = state
        .store(move |conn| {
            store::set_budget(conn.store(), period, body.limit, now_ms())?;
            if let Some(settings) = settings {
                settings
                    .write_budget(&[(period, body.limit)])
                    .map_err(|error| ApiError::internal(error.as_ref()))?;
            }
            budgets(conn.store())
        })
        .await?;
    Ok(Json(budgets))
}
