//! Signing in with a token and out again.

use axum::Form;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use qntx_core::clock::now_ms;
use qntx_core::sessions::{self, SESSION_LIFETIME_MS};
use qntx_core::tokens;
use serde::Deserialize;

use super::layout::head;
use crate::ApiError;
use crate::auth::{SESSION_COOKIE, session_secret};
use crate::state::AppState;

/// The sign-in form's fields; a form without `token` is answered as an empty one.
#[derive(Debug, Deserialize)]
pub(super) struct SignIn {
    #[serde(default)]
    token: String,
}

/// The sign-out form's fields.
#[derive(Debug, Deserialize)]
pub(super) struct SignOut {
    csrf: String,
}

/// `GET /sign-in`.
pub(super) async fn form() -> Markup {
    sign_in_page(None)
}

/// `POST /sign-in`: open a session for a valid token and set its cookie.
pub(super) async fn sign_in(
    State(state): State<AppState>,
    Form(form): Form<SignIn>,
) -> Result<Response, ApiError> {
    let secret = form.token.trim().to_owned();
    let opened = state
        .store(move |conn| {
            let now = now_ms();
            let Some(token) = tokens::authenticate(conn.store(), &secret, now)? else {
                return Ok(None);
            };
            Ok(Some(sessions::open(conn.store(), &token, now)?))
        })
        .await?;
    let Some(opened) = opened else {
        let page = sign_in_page(Some("That token is unknown or revoked."));
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        opened.secret,
        SESSION_LIFETIME_MS / 1000
    );
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// `POST /sign-out`: end the session (with its CSRF token) and clear the cookie.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignOut>,
) -> Result<Response, ApiError> {
    let Some(secret) = session_secret(&headers) else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    if !sessions::csrf_matches(&secret, &form.csrf) {
        return Err(ApiError::forbidden(
            "the sign-out form's CSRF token does not match the session",
        ));
    }
    state
        .store(move |conn| Ok(sessions::close(conn.store(), &secret)?))
        .await?;
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok(([(SET_COOKIE, cookie)], Redirect::to("/sign-in")).into_response())
}

/// The sign-in page, with `problem` above the form.
fn sign_in_page(problem: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in", None))
            body.sign-in {
                main {
                    h1 { "qntx" }
                    form method="post" action="/sign-in" {
                        label for="token" { "API token" }
                        input #token type="password" name="token" required autofocus
                            autocomplete="off" placeholder="qntx_…";
                        @if let Some(problem) = problem { p.problem role="alert" { (problem) } }
                        button type="submit" { "Sign in" }
                    }
                    p.hint {
                        "Create a token on the node with "
                        code { "qntx token create NAME --scope read" }
                        " (" code { "enqueue" } " to cancel and retry jobs from here). "
                        "The browser keeps a session for 12 hours; the token itself is not stored in it."
                    }
                }
            }
        }
    }
}
