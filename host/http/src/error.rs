//! API errors: a status code and `{"error": {"code": ..., "message": ...}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qntx_core::{error_chain, pulse, storage, tokens};

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable code: `not_found`, `invalid`, `unauthorized`...
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// 404: no such thing.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401: no credentials, or ones that are unknown or revoked.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: credentials that do not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500: a fault of the node; the message is logged, the client gets a short one.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %error_chain(error), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the node failed to answer; its log says why",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": { "code": self.code, "message": self.message }
        });
        (self.status, Json(body)).into_response()
    }
}

impl From<storage::Error> for ApiError {
    fn from(error: storage::Error) -> Self {
        match error {
            storage::Error::Refused(_) => Self::invalid(error_chain(&error)),
            storage::Error::Backend(_) => {
                tracing::error!(error = %error_chain(&error), "store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the store cannot be reached; try again later",
                )
            }
            storage::Error::Corrupt(_) => Self::internal(&error),
        }
    }
}

impl From<pulse::Error> for ApiError {
    fn from(error: pulse::Error) -> Self {
        match error {
            pulse::Error::NotFound(_) => Self::not_found(error.to_string()),
            pulse::Error::Ambiguous { .. }
            | pulse::Error::Invalid(_)
            | pulse::Error::InvalidFilter(_)
            | pulse::Error::BadCursor(_) => Self::invalid(error.to_string()),
            pulse::Error::WrongState { .. } | pulse::Error::LeaseLost { .. } => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            pulse::Error::Storage(error) | pulse::Error::Attestations(error) => error.into(),
            pulse::Error::Ats(_) => Self::internal(&error),
        }
    }
}

impl From<tokens::Error> for ApiError {
    fn from(error: tokens::Error) -> Self {
        match error {
            tokens::Error::Name(_) | tokens::Error::Scope(_) => Self::invalid(error.to_string()),
            tokens::Error::Taken(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            tokens::Error::NotFound(_) => Self::not_found(error.to_string()),
            tokens::Error::Storage(error) => error.into(),
        }
    }
}

impl From<qntx_core::ats::Error> for ApiError {
    fn from(error: qntx_core::ats::Error) -> Self {
        use qntx_core::ats::Error;
        match error {
            Error::Invalid(_) | Error::BadCursor(_) => Self::invalid(error.to_string()),
            Error::NotFound(_) => Self::not_found(error.to_string()),
            Error::Storage(error) => error.into(),
            Error::IdExhausted(_) => Self::internal(&error),
        }
    }
}
