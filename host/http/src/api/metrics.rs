//! `/metrics` in Prometheus text format, and the counts of the API's own requests.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use qntx_core::tokens::Scope;

use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// Requests answered, by route template (never a path with ids in it) and status.
pub(crate) const HTTP_REQUESTS: &str = "qntx_http_requests_total";
/// Time to answer a request, by route template.
pub(crate) const HTTP_DURATION: &str = "qntx_http_request_duration_seconds";

/// `GET /metrics` (scope `read`; Prometheus sends it with `authorization: credentials`).
pub(super) async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let Some(metrics) = state.node().metrics else {
        return Err(ApiError::not_found("this node records no metrics"));
    };
    let text = state
        .store(move |conn| {
            metrics
                .render(conn.store())
                .map_err(|error| ApiError::internal(&error))
        })
        .await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

/// Count and time every request by its route template.
pub(super) async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    ::metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    ::metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
