//! `POST /jobs/bulk`: one action on the jobs ticked on a page, or on every job matching the
//! page's filter, then back to the list with a report of what was done and what was skipped.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qntx_core::clock::now_ms;
use qntx_core::pulse::{self, store};

use super::actions::Action;
use super::jobs::ListForm;
use super::viewer::Viewer;
use crate::ApiError;
use crate::state::AppState;

/// Jobs one bulk request acts on at most; the report says when more matched.
const MAX_BULK: usize = 10_000;

/// Which jobs a bulk action is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The ticked ones.
    Selected,
    /// Every job the filter matches.
    Matching,
}

/// The bulk form's buttons and hidden fields, above the list's table.
pub(super) fn toolbar(viewer: &Viewer, form: &ListForm) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(viewer.csrf);
        @for (name, value) in form.fields() { input type="hidden" name=(name) value=(value); }
        div.actions.bulk {
            span.hint { "Ticked jobs:" }
            @for action in Action::ALL {
                button type="submit" name="do" value={ (action) ":selected" } class=(action) { (action) }
            }
            span.hint { "Every matching job:" }
            @for action in Action::ALL {
                button type="submit" name="do" value={ (action) ":matching" } class=(action) { (action) " all" }
            }
        }
    }
}

/// What a bulk request did, as the list reports it.
pub(super) fn report(done: &str) -> Markup {
    let mut parts = done.split(':');
    let (action, acted, skipped) = (parts.next(), parts.next(), parts.next());
    html! {
        p.notice role="status" {
            (action.unwrap_or("?")) ": " (acted.unwrap_or("0")) " jobs"
            @if skipped.is_some_and(|skipped| skipped != "0") {
                ", " (skipped.unwrap_or("0")) " skipped (their status does not allow it, or they changed meanwhile)"
            }
            "."
        }
    }
}

/// `POST /jobs/bulk` (form: `csrf`, `do` = `ACTION:selected|matching`, `id`s, the filter).
pub(super) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut csrf = String::new();
    let mut chosen = String::new();
    let mut ids = Vec::new();
    let (mut status, mut handler, mut source) = (String::new(), String::new(), String::new());
    for (name, value) in form_urlencoded::parse(&body) {
        match &*name {
            "csrf" => csrf = value.into_owned(),
            "do" => chosen = value.into_owned(),
            "id" => ids.push(value.into_owned()),
            "status" => status = value.into_owned(),
            "handler" => handler = value.into_owned(),
            "source" => source = value.into_owned(),
            _ => {}
        }
    }
    if !viewer.sent_csrf(&csrf) {
        return Err(ApiError::forbidden(
            "the form's CSRF token does not match the session",
        ));
    }
    if !viewer.may_steer() {
        return Err(ApiError::forbidden(format!(
            "token '{}' has scope {}; bulk actions need enqueue",
            viewer.token.name, viewer.token.scope
        )));
    }
    let (action, target) = parse_choice(&chosen)?;
    let form = ListForm::new(status, handler, source);
    let filter = form.filter()?;
    if target == Target::Selected && ids.is_empty() {
        return Err(ApiError::invalid(
            "no job is ticked; tick some, or use the 'all' buttons",
        ));
    }
    let (acted, skipped) = state
        .store(move |conn| {
            let store = conn.store();
            let ids = match target {
                Target::Selected => ids,
                Target::Matching => store::list_all(store, &filter)?
                    .into_iter()
                    .filter(|job| action.applies_to(job.status))
                    .map(|job| job.id)
                    .collect(),
            };
            let now = now_ms();
            let (mut acted, mut skipped) = (0_usize, ids.len().saturating_sub(MAX_BULK));
            for id in ids.iter().take(MAX_BULK) {
                match action.apply(store, id, now) {
                    Ok(()) => acted += 1,
                    Err(pulse::Error::WrongState { .. } | pulse::Error::NotFound(_)) => {
                        skipped += 1
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            Ok((acted, skipped))
        })
        .await?;
    let done = format!("{action}:{acted}:{skipped}");
    let back = form.query(&[("done", &done)]);
    Ok(Redirect::to(&format!("/jobs?{back}")).into_response())
}

/// `cancel:selected` → (cancel, selected).
fn parse_choice(chosen: &str) -> Result<(Action, Target), ApiError> {
    let (action, target) = chosen.split_once(':').ok_or_else(|| {
        ApiError::invalid(format!(
            "'{chosen}' is not ACTION:selected or ACTION:matching"
        ))
    })?;
    let target = match target {
        "selected" => Target::Selected,
        "matching" => Target::Matching,
        other => {
            return Err(ApiError::invalid(format!(
                "'{other}' is neither selected nor matching"
            )));
        }
    };
    Ok((action.parse()?, target))
}
