//! Attestations: record one, read one, query with the filter model or the `ax` grammar.

use axum::Json;
use axum::extract::{Path, Query as Params, State};
use axum::http::StatusCode;
use qntx_core::ats::grammar;
use qntx_core::ats::when::{self, Edge};
use qntx_core::ats::{self, Attestation, Cursor, Limits, NewAttestation, Query, store};
use qntx_core::clock::now_ms;
use qntx_core::tokens::Scope;
use qntx_node::handlers::check_speaker;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json::Body;
use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// The source of attestations recorded through the API.
pub(crate) const API_SOURCE: &str = "qntx-api";

/// `POST /api/v1/attestations`: a claim. Without actors, the token's name is the actor.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AttestBody {
    subjects: Vec<String>,
    #[serde(default)]
    predicates: Vec<String>,
    #[serde(default)]
    contexts: Vec<String>,
    #[serde(default)]
    actors: Vec<String>,
    /// When the claim was made: RFC 3339, a date, or words such as `yesterday`; default now.
    at: Option<String>,
    #[serde(default)]
    attributes: Value,
}

/// `POST /api/v1/attestations` (scope `enqueue`): 201 with the stored attestation.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<AttestBody>,
) -> Result<(StatusCode, Json<Attestation>), ApiError> {
    caller.require(Scope::Enqueue)?;
    let now = now_ms();
    let timestamp = body
        .at
        .as_deref()
        .map(|text| when::parse(text, now, Edge::Start))
        .transpose()
        .map_err(|error| ApiError::invalid(format!("at: {error}")))?;
    let actors = if body.actors.is_empty() {
        vec![caller.token.name.clone()]
    } else {
        body.actors
    };
    let mut attestation = NewAttestation {
        subjects: body.subjects,
        predicates: body.predicates,
        contexts: body.contexts,
        actors,
        timestamp,
        source: API_SOURCE.to_owned(),
        attributes: body.attributes,
    }
    .validate(&Limits::default(), now)?;
    check_speaker(&attestation).map_err(ApiError::invalid)?;
    let stored = state
        .store(move |conn| {
            store::insert(conn.store(), &mut attestation)?;
            Ok(attestation)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `GET /api/v1/attestations/{id}` (scope `read`).
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Attestation>, ApiError> {
    caller.require(Scope::Read)?;
    let attestation = state
        .store(move |conn| Ok(store::get(conn.store(), &id)?))
        .await?;
    Ok(Json(attestation))
}

/// Filters of `GET /api/v1/attestations`: `ax` is one string of the `qntx ax` grammar
/// (`ALICE is author since "7 days ago"`); the other fields add to what it says. Dimension
/// fields take several values separated by commas.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryParams {
    pub(super) ax: Option<String>,
    pub(super) subject: Option<String>,
    pub(super) predicate: Option<String>,
    pub(super) context: Option<String>,
    pub(super) actor: Option<String>,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
    pub(super) source: Option<String>,
    pub(super) limit: Option<u32>,
    pub(super) cursor: Option<String>,
}

/// A page of attestations, newest first, and where the next starts.
#[derive(Debug, Serialize)]
pub(super) struct AttestationPage {
    attestations: Vec<Attestation>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/attestations` (scope `read`).
pub(super) async fn query(
    State(state): State<AppState>,
    caller: Caller,
    Params(params): Params<QueryParams>,
) -> Result<Json<AttestationPage>, ApiError> {
    caller.require(Scope::Read)?;
    let query = parse_query(params, now_ms())?;
    let page = state
        .store(move |conn| Ok(store::query(conn.store(), &query)?))
        .await?;
    Ok(Json(AttestationPage {
        attestations: page.attestations,
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
    }))
}

/// The query the parameters describe, checked.
pub(crate) fn parse_query(params: QueryParams, now: i64) -> Result<Query, ApiError> {
    let words = grammar::split(params.ax.as_deref().unwrap_or_default())
        .map_err(|error| ApiError::invalid(format!("ax: {error}")))?;
    let said = grammar::parse_ax(&words, now)
        .map_err(|error| ApiError::invalid(format!("ax: {error}")))?;
    let list = |values: Option<String>| -> Vec<String> {
        values
            .map(|text| text.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let time = |name: &str, text: Option<String>, edge| {
        text.map(|text| when::parse(&text, now, edge))
            .transpose()
            .map_err(|error| ApiError::invalid(format!("{name}: {error}")))
    };
    let query = Query {
        subjects: [said.subjects, list(params.subject)].concat(),
        predicates: [said.predicates, list(params.predicate)].concat(),
        contexts: [said.contexts, list(params.context)].concat(),
        actors: [said.actors, list(params.actor)].concat(),
        since: time("since", params.since, Edge::Start)?.or(said.since),
        until: time("until", params.until, Edge::End)?.or(said.until),
        source: params.source,
        attributes: Vec::new(),
        limit: params.limit.unwrap_or(0),
        cursor: params.cursor.as_deref().map(Cursor::decode).transpose()?,
    };
    if query.limit > ats::MAX_LIMIT {
        return Err(ApiError::invalid(format!(
            "limit {} is over the most a page holds, {}",
            query.limit,
            ats::MAX_LIMIT
        )));
    }
    query.validate()?;
    Ok(query)
}
