//! The stylesheet and the script, compiled into the binary.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The stylesheet every page links.
pub(super) const STYLESHEET: &str = "/assets/qntx.css";

/// The script every page loads.
pub(super) const SCRIPT: &str = "/assets/qntx.js";

/// `GET /assets/{file}`.
pub(super) async fn file(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (body, content_type) = match file.as_str() {
        "qntx.css" => (include_str!("assets/qntx.css"), "text/css; charset=utf-8"),
        "qntx.js" => (
            include_str!("assets/qntx.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return Err(ApiError::not_found(format!("no asset '{file}'"))),
    };
    Ok((
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response())
}
