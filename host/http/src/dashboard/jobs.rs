//! `GET /jobs` (a filtered page of jobs), `GET /jobs/{id}` (one job, kept live by the script)
//! and `POST /jobs/{id}/{action}` (the buttons: cancel, pause, resume, retry).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use qntx_core::clock::now_ms;
use qntx_core::pulse::{Job, JobFilter, JobPage, JobStatus, LogLine, SourceMatch, listing, store};
use serde::Deserialize;

use super::actions::Action;
use super::bulk;
use super::format;
use super::layout::{Section, page};
use super::viewer::Viewer;
use crate::ApiError;
use crate::state::AppState;

/// Jobs on one page of the list.
const PAGE: u32 = 50;

/// Log lines the job page shows at most (the latest).
const LOG_TAIL: usize = 500;

/// The list's filter form; empty fields filter nothing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    handler: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    cursor: String,
    /// What the last bulk action did, to report it: `ACTION:DONE:SKIPPED`.
    done: Option<String>,
}

impl ListForm {
    /// The form's filter fields, as the bulk form carries them.
    pub(super) fn new(status: String, handler: String, source: String) -> Self {
        Self {
            status,
            handler,
            source,
            ..Self::default()
        }
    }

    /// The status, handler and source fields.
    pub(super) fn fields(&self) -> [(&'static str, &str); 3] {
        [
            ("status", self.status.as_str()),
            ("handler", self.handler.as_str()),
            ("source", self.source.as_str()),
        ]
    }

    /// The filter the form describes.
    pub(super) fn filter(&self) -> Result<JobFilter, ApiError> {
        let given = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        Ok(JobFilter {
            statuses: match given(&self.status) {
                Some(text) => listing::parse_statuses(&text)?,
                None => Vec::new(),
            },
            handler: given(&self.handler),
            source: given(&self.source).map(|text| {
                text.parse::<SourceMatch>()
                    .unwrap_or_else(|never| match never {})
            }),
            cursor: given(&self.cursor),
            limit: Some(PAGE),
            ..JobFilter::default()
        })
    }

    /// The query string of this filter, with `extra` pairs (a page's cursor, a report).
    pub(super) fn query(&self, extra: &[(&str, &str)]) -> String {
        let [status, handler, source] = self.fields();
        query(&[&[status, handler, source], extra].concat())
    }
}

/// `GET /jobs`.
pub(super) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(form): Query<ListForm>,
) -> Result<Markup, ApiError> {
    let filter = form.filter()?;
    let jobs = state
        .store(move |conn| Ok(store::list(conn.store(), &filter)?))
        .await?;
    Ok(page(
        &viewer,
        Section::Jobs,
        "Jobs",
        list_body(&viewer, &form, &jobs),
    ))
}

fn list_body(viewer: &Viewer, form: &ListForm, jobs: &JobPage) -> Markup {
    let steer = viewer.may_steer();
    html! {
        form.filter method="get" action="/jobs" {
            label { "status " select name="status" {
                option value="" selected[form.status.is_empty()] { "any" }
                @for status in JobStatus::ALL {
                    option value=(status.as_str()) selected[form.status == status.as_str()] { (status.as_str()) }
                }
            } }
            label { "handler " input type="text" name="handler" value=(form.handler) placeholder="text/stats"; }
            label { "source " input type="text" name="source" value=(form.source) placeholder="job:* or cli"; }
            button type="submit" { "Filter" }
        }
        @if let Some(done) = &form.done { (bulk::report(done)) }
        @if jobs.jobs.is_empty() {
            p.empty {
                @if form.cursor.is_empty() { "No job matches this filter." }
                @else { "No more jobs match this filter." }
            }
        } @else {
            form #bulk method="post" action="/jobs/bulk" {
                @if steer { (bulk::toolbar(viewer, form)) }
                table.jobs {
                    thead { tr {
                        @if steer { th { input type="checkbox" data-select-all title="select every job on this page"; } }
                        th { "id" } th { "handler" } th { "status" } th { "progress" }
                        th { "attempt" } th { "source" } th { "created" }
                    } }
                    tbody {
                        @for job in &jobs.jobs {
                            tr data-job=(job.id) {
                                @if steer { td { input type="checkbox" name="id" value=(job.id); } }
                                td { a href={ "/jobs/" (job.id) } { code { (format::short_id(&job.id)) } } }
                                td { (job.handler) }
                                td { (format::status(job.status)) }
                                td { (format::progress_text(job.progress.current, job.progress.total)) }
                                td.num { (job.attempt) "/" (job.max_attempts) }
                                td { (job.source) }
                                td { (format::time(job.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &jobs.next_cursor {
            p { a.next href={ "/jobs?" (form.query(&[("cursor", next)])) } { "Older jobs →" } }
        }
    }
}

/// `GET /jobs/{id}` (a unique id prefix is enough).
pub(super) async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, ApiError> {
    let (job, logs) = state
        .store(move |conn| {
            let id = store::resolve_id(conn.store(), &id)?;
            let job = store::get(conn.store(), &id)?;
            let logs = store::logs(conn.store(), &id, 0)?;
            Ok((job, logs))
        })
        .await?;
    let title = format!("Job {}", format::short_id(&job.id));
    Ok(page(
        &viewer,
        Section::Jobs,
        &title,
        detail_body(&viewer, &job, &logs),
    ))
}

fn detail_body(viewer: &Viewer, job: &Job, logs: &[(i64, LogLine)]) -> Markup {
    let tail = &logs[logs.len().saturating_sub(LOG_TAIL)..];
    let last_line = logs.last().map_or(0, |(number, _)| *number);
    html! {
        div.job data-live-job=(job.id) data-status=(job.status.as_str()) data-log-after=(last_line) {
            dl.facts {
                dt { "id" } dd { code { (job.id) } }
                dt { "handler" } dd { a href={ "/jobs?" (query(&[("handler", &job.handler)])) } { (job.handler) } }
                dt { "status" } dd {
                    (format::status(job.status))
                    @if let Some(reason) = job.pause_reason { " (" (reason.as_str()) ")" }
                }
                dt { "progress" } dd { (format::progress(job)) }
                dt { "attempt" } dd { (job.attempt) " of " (job.max_attempts) }
                dt { "source" } dd { (job.source) }
                dt { "created" } dd { (format::time(job.created_at)) }
                dt { "started" } dd { (format::maybe_time(job.started_at)) }
                dt { "finished" } dd {
                    (format::maybe_time(job.completed_at))
                    @if let (Some(started), Some(done)) = (job.started_at, job.completed_at) {
                        " (" (format::duration(done - started)) ")"
                    }
                }
                dt { "cost" } dd { (format!("{:.4}", job.cost_actual)) " (estimate " (format!("{:.4}", job.cost_estimate)) ")" }
                dt { "version" } dd { code { (if job.plugin_version.is_empty() { "–" } else { &job.plugin_version }) } }
                dt { "ran on" } dd {
                    @if job.nodes.is_empty() { "–" }
                    @for node in &job.nodes { span.node { "attempt " (node.attempt) ": " code { (node.node) } } " " }
                }
                @if let Some(parent) = &job.parent_job_id {
                    dt { "parent" } dd { a href={ "/jobs/" (parent) } { code { (parent) } } }
                }
                dt { "children" } dd { a href={ "/jobs?" (query(&[("source", &format!("job:{}", job.id))])) } { "jobs it enqueued" } }
            }
            @if viewer.may_steer() { (buttons(viewer, job)) }
            h2 { "Payload" }
            pre.json { (pretty(&job.payload)) }
            @if let Some(result) = &job.result { h2 { "Result" } pre.json data-result { (pretty(result)) } }
            @if let Some(error) = &job.error { h2 { "Error" } pre.error { (error) } }
            h2 { "Log" }
            @if logs.len() > tail.len() { p.hint { "The latest " (LOG_TAIL) " of " (logs.len()) " lines." } }
            ol.log data-log start=(tail.first().map_or(1, |(number, _)| *number)) {
                @for (_, line) in tail {
                    li class=(line.level.as_str()) {
                        span.time { (format::time(line.time)) } " "
                        span.stage { (line.stage) } " "
                        (line.message)
                    }
                }
            }
            @if logs.is_empty() { p.empty data-log-empty { "No log lines yet." } }
        }
    }
}

/// The buttons that apply to the job's status, as forms that carry the CSRF token.
fn buttons(viewer: &Viewer, job: &Job) -> Markup {
    html! {
        div.actions {
            @for action in Action::ALL.into_iter().filter(|action| action.applies_to(job.status)) {
                form method="post" action={ "/jobs/" (job.id) "/" (action) } {
                    input type="hidden" name="csrf" value=(viewer.csrf);
                    button type="submit" class=(action) data-action=(action) { (action) }
                }
            }
        }
    }
}

/// A button's form.
#[derive(Debug, Deserialize)]
pub(super) struct ActionForm {
    csrf: String,
}

/// `POST /jobs/{id}/{action}`: the button's action, then back to the job's page.
pub(super) async fn steer(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, ApiError> {
    if !viewer.sent_csrf(&form.csrf) {
        return Err(ApiError::forbidden(
            "the form's CSRF token does not match the session",
        ));
    }
    if !viewer.may_steer() {
        return Err(ApiError::forbidden(format!(
            "token '{}' has scope {}; {action} needs enqueue",
            viewer.token.name, viewer.token.scope
        )));
    }
    let action: Action = action.parse()?;
    let id = state
        .store(move |conn| {
            let id = store::resolve_id(conn.store(), &id)?;
            action.apply(conn.store(), &id, now_ms())?;
            Ok(id)
        })
        .await?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

/// JSON, indented.
fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A query string of the `pairs` whose value is not empty.
pub(super) fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
        .finish()
}
