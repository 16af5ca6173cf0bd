//! The web dashboard at `/`: server-rendered pages (maud), a stylesheet and a small script
//! embedded in the binary, no build step. A browser signs in with a token and then carries a
//! session cookie ([`qntx_core::sessions`]); the pages call the same library functions as the
//! JSON API, and the script keeps a job's page live through the API with the same cookie.
//!
//! ```text
//! GET /sign-in → POST /sign-in (token) → cookie → GET / · /jobs · /jobs/{id}
//!                                                 POST /jobs/{id}/{action}, /jobs/bulk (CSRF field)
//! ```

mod actions;
mod assets;
mod bulk;
mod format;
mod jobs;
mod layout;
mod overview;
mod session;
mod viewer;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The dashboard's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/sign-in", get(session::form).post(session::sign_in))
        .route("/sign-out", post(session::sign_out))
        .route("/jobs", get(jobs::list))
        .route("/jobs/bulk", post(bulk::act))
        .route("/jobs/{id}", get(jobs::detail))
        .route("/jobs/{id}/{action}", post(jobs::steer))
        .route("/assets/{file}", get(assets::file))
}
