//! The JSON body extractor (its rejections answer in the API's error format), and the answer
//! to an enqueue.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use qntx_core::pulse::store::Enqueued;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejected(&rejection)),
        }
    }
}

fn rejected(rejection: &JsonRejection) -> ApiError {
    let status = rejection.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid",
    };
    // axum's text names the serde error and its position; keep it, on one line.
    ApiError::new(status, code, rejection.body_text().replace('\n', " "))
}

/// The answer to an enqueue: 201 with the new job's id, or 200 with the id of the active job
/// a `unique` request (or a schedule's previous run) matched.
pub(crate) fn enqueued(enqueued: Enqueued) -> (StatusCode, axum::Json<Enqueued>) {
    let status = if enqueued.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, axum::Json(enqueued))
}
