//! Tokens of the API: listed, created and revoked (scope `admin`), as `qntx token` does.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use qntx_core::clock::now_ms;
use qntx_core::tokens::{self, Scope, Token};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::Body;
use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// `POST /api/v1/tokens`: the new token's name and scope (`read`, `enqueue` or `admin`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    name: String,
    scope: String,
}

/// `GET /api/v1/tokens` (scope `admin`): every token, revoked ones too, never a secret, as
/// `qntx token list --json`.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Admin)?;
    let tokens = state.store(|conn| Ok(tokens::list(conn.store())?)).await?;
    Ok(Json(json!({ "tokens": tokens })))
}

/// `POST /api/v1/tokens` (scope `admin`): 201 with the token and its secret, which is shown
/// this once, as `qntx token create --json`.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Scope::Admin)?;
    let scope: Scope = body.scope.parse()?;
    let created = state
        .store(move |conn| Ok(tokens::create(conn.store(), &body.name, scope, now_ms())?))
        .await?;
    tracing::info!(token = %created.token.name, scope = %scope, by = %caller.token.name, "token created over HTTP");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": created.token, "secret": created.secret })),
    ))
}

/// `POST /api/v1/tokens/{name}/revoke` (scope `admin`): the token, revoked; requests carrying
/// it fail at once, on every node.
pub(super) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Token>, ApiError> {
    caller.require(Scope::Admin)?;
    let token = state
        .store(move |conn| Ok(tokens::revoke(conn.store(), &name, now_ms())?))
        .await?;
    Ok(Json(token))
}
