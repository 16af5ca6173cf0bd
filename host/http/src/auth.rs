//! Who is asking: the bearer token of a request, and what its scope allows.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use qntx_core::clock::now_ms;
use qntx_core::tokens::{self, Scope, Token};

use crate::ApiError;
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) token: Token,
}

impl Caller {
    /// Refuse the request unless the caller's scope allows `needed`.
    pub(crate) fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.token.scope.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token '{}' has scope {}; this needs {needed}",
                self.token.name, self.token.scope
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts)?.to_owned();
        let token = state
            .store(move |conn| Ok(tokens::authenticate(conn.store(), &secret, now_ms())?))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the token is unknown or revoked"))?;
        Ok(Self { token })
    }
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "this request needs a token: send 'Authorization: Bearer qntx_...' \
             (create one with: qntx token create NAME --scope read)",
        )
    })?;
    header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not 'Bearer <token>'"))
}
