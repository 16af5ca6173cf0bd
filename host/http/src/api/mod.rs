//! The routes under `/api/v1`: one module per kind of thing.

mod attestations;
mod budgets;
mod handlers;
mod jobs;
mod json;
mod metrics;
mod plugins;
mod status;
pub(crate) mod streams;
mod tokens;
mod triggers;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use tower_http::timeout::TimeoutLayer;

use crate::state::AppState;
use crate::{ApiError, HttpConfig};

/// Every route (the API's and the dashboard's), with the body limit and the request timeout.
pub(crate) fn router(state: AppState, config: &HttpConfig) -> Router {
    let api = Router::new()
        .route("/health", get(status::health))
        .route("/status", get(status::status))
        .route("/jobs", post(jobs::enqueue).get(jobs::list))
        .route("/jobs/batch", post(jobs::enqueue_batch))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/logs", get(jobs::logs))
        .route("/jobs/{id}/events", get(streams::job_stream))
        .route("/events/jobs", get(streams::job_feed))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/pause", post(jobs::pause))
        .route("/jobs/{id}/resume", post(jobs::resume))
        .route("/jobs/{id}/retry", post(jobs::retry))
        .route(
            "/attestations",
            post(attestations::create).get(attestations::query),
        )
        .route("/attestations/feed", get(streams::attestation_feed))
        .route("/attestations/{id}", get(attestations::get))
        .merge(admin_routes())
        .fallback(unknown_route);
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::dashboard::router())
        .route("/metrics", get(metrics::metrics))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .merge(build_routes())
        .fallback(unknown_route)
        .route_layer(axum::middleware::from_fn(metrics::record))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .with_state(state)
}

/// Handlers, plugins, schedules and watchers, budgets and tokens.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/handlers", get(handlers::list))
        .route(
            "/handlers/{name}",
            get(handlers::show).delete(handlers::remove),
        )
        .route("/handlers/{name}/versions", get(handlers::versions))
        .route("/handlers/{name}/source", get(handlers::source))
        .route("/handlers/{name}/rollback", post(handlers::rollback))
        .route("/plugins", get(plugins::list))
        .route("/plugins/{name}", get(plugins::inspect))
        .route("/schedules", get(triggers::list).post(triggers::add))
        .route("/schedules/{id}", axum::routing::delete(triggers::remove))
        .route("/schedules/{id}/pause", post(triggers::pause))
        .route("/schedules/{id}/resume", post(triggers::resume))
        .route("/schedules/{id}/run", post(triggers::run_now))
        .route("/watchers", get(triggers::watchers))
        .route("/budgets", get(budgets::show))
        .route("/budgets/{period}", put(budgets::set))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{name}/revoke", post(tokens::revoke))
}

/// Handler creation, with a timeout of its own: building from source can take minutes.
fn build_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/handlers", post(handlers::create))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            handlers::BUILD_TIMEOUT,
        ))
}

/// The help texts of the API's own metrics.
pub(crate) fn describe_metrics() {
    ::metrics::describe_counter!(
        metrics::HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    ::metrics::describe_histogram!(
        metrics::HTTP_DURATION,
        ::metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route '{}'; the API is under /api/v1 and the dashboard at /",
        uri.path()
    ))
}
