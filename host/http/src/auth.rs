//! Who is asking: the bearer token of a request, or the dashboard session its cookie names,
//! and what the token's scope allows.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use qntx_core::clock::now_ms;
use qntx_core::sessions;
use qntx_core::tokens::{self, Scope, Token};

use crate::ApiError;
use crate::state::AppState;

/// The cookie of a dashboard session.
pub(crate) const SESSION_COOKIE: &str = "qntx_session";

/// The header a session's scripts send its CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

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

    /// A bearer token; without one, the session cookie of the dashboard, whose requests that
    /// change something must also carry the session's CSRF token in `X-CSRF-Token`.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(AUTHORIZATION) {
            let secret = bearer(parts)?.to_owned();
            let token = state
                .store(move |conn| Ok(tokens::authenticate(conn.store(), &secret, now_ms())?))
                .await?
                .ok_or_else(|| ApiError::unauthorized("the token is unknown or revoked"))?;
            return Ok(Self { token });
        }
        let Some(secret) = session_secret(&parts.headers) else {
            return Err(ApiError::unauthorized(
                "this request needs a token: send 'Authorization: Bearer qntx_...' \
                 (create one with: qntx token create NAME --scope read)",
            ));
        };
        if !is_safe(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            if !sessions::csrf_matches(&secret, sent) {
                return Err(ApiError::forbidden(
                    "a signed-in browser's request that changes something needs the session's \
                     CSRF token in X-CSRF-Token",
                ));
            }
        }
        let token = session_token(state, secret)
            .await?
            .ok_or_else(|| ApiError::unauthorized("the session has ended; sign in again"))?;
        Ok(Self { token })
    }
}

/// The token of the session `secret`, if it is open and its token unrevoked.
pub(crate) async fn session_token(
    state: &AppState,
    secret: String,
) -> Result<Option<Token>, ApiError> {
    state
        .store(move |conn| Ok(sessions::authenticate(conn.store(), &secret, now_ms())?))
        .await
}

/// The session secret of the request's `qntx_session` cookie.
pub(crate) fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether a request of this method only reads.
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The secret of `Authorization: Bearer <secret>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|header| header.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not 'Bearer <token>'"))
}
