//! Who looks at a page: the token of the browser's session, or a redirect to sign in.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use qntx_core::sessions;
use qntx_core::tokens::{Scope, Token};

use crate::ApiError;
use crate::auth::{session_secret, session_token};
use crate::state::AppState;

/// The signed-in viewer of a dashboard page.
#[derive(Debug, Clone)]
pub(super) struct Viewer {
    /// The token the session stands for.
    pub(super) token: Token,
    /// The session's CSRF token, for forms and scripts.
    pub(super) csrf: String,
    /// The session's secret, from the cookie.
    secret: String,
}

impl Viewer {
    /// Whether the viewer may enqueue, cancel, pause, resume and retry (and so sees buttons).
    pub(super) fn may_steer(&self) -> bool {
        self.token.scope.allows(Scope::Enqueue)
    }

    /// Whether `sent` is this session's CSRF token.
    pub(super) fn sent_csrf(&self, sent: &str) -> bool {
        sessions::csrf_matches(&self.secret, sent)
    }
}

/// Why a page is not shown.
#[derive(Debug)]
pub(super) enum NotSignedIn {
    /// No session, or it ended: sign in first.
    SignIn,
    /// The store failed.
    Error(ApiError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn => Redirect::to("/sign-in").into_response(),
            Self::Error(error) => error.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotSignedIn> {
        let secret = session_secret(&parts.headers).ok_or(NotSignedIn::SignIn)?;
        let csrf = sessions::csrf_token(&secret);
        let token = session_token(state, secret.clone())
            .await
            .map_err(NotSignedIn::Error)?
            .ok_or(NotSignedIn::SignIn)?;
        Ok(Self {
            token,
            csrf,
            secret,
        })
    }
}
