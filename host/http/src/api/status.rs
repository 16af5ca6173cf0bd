//! The node's health and status.

use axum::Json;
use axum::extract::State;
use qntx_core::tokens::Scope;
use serde::Serialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// `GET /api/v1/health`: whether the node answers, without a token (for load balancers).
pub(super) async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// What `GET /api/v1/status` answers.
#[derive(Debug, Serialize)]
pub(super) struct Status {
    node_id: String,
    version: &'static str,
    database: String,
    token: String,
    scope: Scope,
}

/// `GET /api/v1/status`: which node this is, on which store, and who is asking.
pub(super) async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Status>, ApiError> {
    caller.require(Scope::Read)?;
    let node = state.node();
    Ok(Json(Status {
        node_id: node.node_id.clone(),
        version: env!("CARGO_PKG_VERSION"),
        database: node.backend.describe(),
        token: caller.token.name,
        scope: caller.token.scope,
    }))
}
