//! Live streams over Server-Sent Events: one job's changes and log lines until it ends, every
//! job event matching a filter, and new attestations matching an `ax` query.
//!
//! Each event's `id:` is its cursor; a client that reconnects with `Last-Event-ID` (or
//! `?after=`, for clients that cannot set headers) gets exactly the events after it. The two
//! feeds are shared by every subscriber of the node ([`crate::hub`]); a job's own stream reads
//! its job's rows (indexed by job) at each poll.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query as Params, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use futures::Stream;
use qntx_core::ats::{Attestation, Query};
use qntx_core::clock::now_ms;
use qntx_core::pulse::events::{EventCursor, EventFilter, JobEvent};
use qntx_core::pulse::{JobStatus, LogLine, store};
use qntx_core::storage::Store;
use qntx_core::tokens::Scope;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::attestations::{QueryParams, parse_query};
use crate::ApiError;
use crate::auth::Caller;
use crate::hub::{self, BATCH, Feed, POLL};
use crate::state::AppState;

/// How often an idle stream sends a comment, so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Events buffered between a stream's task and its connection.
const BUFFER: usize = 256;

/// The events of a stream.
type Events = Box<dyn Stream<Item = Result<Event, Infallible>> + Send + Unpin>;

/// A stream of SSE events, with keep-alive comments.
type EventStream = Sse<KeepAliveStream<Events>>;

/// The response streaming what `task` sends until it ends or the client goes.
fn respond(task: impl FnOnce(mpsc::Sender<Event>) -> tokio::task::JoinHandle<()>) -> EventStream {
    let (sender, mut receiver) = mpsc::channel(BUFFER);
    task(sender);
    let stream = futures::stream::poll_fn(move |cx| {
        receiver.poll_recv(cx).map(|e| e.map(Ok::<_, Infallible>))
    });
    Sse::new(Box::new(stream) as Events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// The cursor a client resumes after: `Last-Event-ID` if sent, else `?after=`.
fn resume_text<'a>(
    headers: &'a HeaderMap,
    after: Option<&'a str>,
) -> Result<Option<&'a str>, ApiError> {
    match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::invalid("Last-Event-ID is not text")),
        None => Ok(after),
    }
}

/// The query parameters, or a 400 in the API's error format.
fn parameters<T>(params: Result<Params<T>, QueryRejection>) -> Result<T, ApiError> {
    params
        .map(|Params(params)| params)
        .map_err(|rejection| ApiError::invalid(rejection.body_text()))
}

fn bad_id(text: &str, expected: &str) -> ApiError {
    ApiError::invalid(format!(
        "'{text}' is no event id of this stream (expected {expected})"
    ))
}

/// The job event feed.
#[derive(Debug)]
pub(crate) struct JobEvents;

impl Feed for JobEvents {
    type Item = JobEvent;
    type Cursor = EventCursor;
    type Filter = EventFilter;

    fn cursor(item: &JobEvent) -> EventCursor {
        item.cursor
    }

    fn head(store: &dyn Store) -> Result<EventCursor, ApiError> {
        Ok(store.job_events_head()?)
    }

    fn after(
        store: &dyn Store,
        after: EventCursor,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<JobEvent>, ApiError> {
        Ok(store.job_events_after(after, filter, limit)?)
    }

    fn keep(filter: &EventFilter, item: &JobEvent) -> bool {
        filter.matches(item)
    }

    fn event(item: &JobEvent) -> Event {
        job_event(item, item.cursor.to_string())
    }
}

fn job_event(item: &JobEvent, id: String) -> Event {
    Event::default()
        .event("job")
        .id(id)
        .json_data(item)
        .unwrap_or_default()
}

/// The attestation feed: each attestation with its insertion sequence.
#[derive(Debug)]
pub(crate) struct Attestations;

/// An `ax` query, or none (everything).
#[derive(Debug, Clone, Default)]
pub(crate) struct AxFilter(Option<Arc<Query>>);

impl Feed for Attestations {
    type Item = (i64, Attestation);
    type Cursor = i64;
    type Filter = AxFilter;

    fn cursor(item: &(i64, Attestation)) -> i64 {
        item.0
    }

    fn head(store: &dyn Store) -> Result<i64, ApiError> {
        Ok(store.attestation_head()?)
    }

    fn after(
        store: &dyn Store,
        after: i64,
        _: &AxFilter,
        limit: u32,
    ) -> Result<Vec<(i64, Attestation)>, ApiError> {
        Ok(store.attestation_after(after, limit)?)
    }

    fn keep(filter: &AxFilter, item: &(i64, Attestation)) -> bool {
        filter.0.as_ref().is_none_or(|query| query.matches(&item.1))
    }

    fn event(item: &(i64, Attestation)) -> Event {
        Event::default()
            .event("attestation")
            .id(item.0.to_string())
            .json_data(&item.1)
            .unwrap_or_default()
    }
}

/// Filters of `GET /api/v1/events/jobs`; `after` resumes (as `Last-Event-ID`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobFeedParams {
    status: Option<String>,
    handler: Option<String>,
    source: Option<String>,
    after: Option<String>,
}

/// `GET /api/v1/events/jobs` (scope `read`): every job event matching the filters, from now
/// on or after the cursor given.
pub(super) async fn job_feed(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Result<Params<JobFeedParams>, QueryRejection>,
) -> Result<EventStream, ApiError> {
    caller.require(Scope::Read)?;
    let params = parameters(params)?;
    let status = params
        .status
        .as_deref()
        .map(str::parse::<JobStatus>)
        .transpose()
        .map_err(|error| ApiError::invalid(format!("status: {error}")))?;
    let filter = EventFilter {
        job_id: None,
        handler: params.handler,
        status,
        source: params.source,
    };
    let from = resume_text(&headers, params.after.as_deref())?
        .map(|text| {
            text.parse::<EventCursor>()
                .map_err(|_| bad_id(text, "XID-SEQ, e.g. 0-42"))
        })
        .transpose()?;
    let hub = state.job_event_hub().await?;
    let from = match from {
        Some(from) => from,
        None => state.store(|conn| JobEvents::head(conn.store())).await?,
    };
    Ok(respond(move |out| {
        tokio::spawn(async move { hub.follow(state, filter, from, out).await })
    }))
}

/// Filters of `GET /api/v1/attestations/feed`: those of `GET /api/v1/attestations` but the
/// page's, and `after`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AttestationFeedParams {
    ax: Option<String>,
    subject: Option<String>,
    predicate: Option<String>,
    context: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    source: Option<String>,
    after: Option<String>,
}

/// `GET /api/v1/attestations/feed` (scope `read`): attestations stored from now on (or after
/// the cursor given) that match the query, as `qntx ax --follow` prints them.
pub(super) async fn attestation_feed(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Result<Params<AttestationFeedParams>, QueryRejection>,
) -> Result<EventStream, ApiError> {
    caller.require(Scope::Read)?;
    let params = parameters(params)?;
    let from = resume_text(&headers, params.after.as_deref())?
        .map(|text| {
            text.parse::<i64>()
                .ok()
                .filter(|seq| *seq >= 0)
                .ok_or_else(|| bad_id(text, "a sequence number, e.g. 42"))
        })
        .transpose()?;
    let query = parse_query(
        QueryParams {
            ax: params.ax,
            subject: params.subject,
            predicate: params.predicate,
            context: params.context,
            actor: params.actor,
            since: params.since,
            until: params.until,
            source: params.source,
            ..QueryParams::default()
        },
        now_ms(),
    )?;
    let filter = AxFilter(Some(Arc::new(query)));
    let hub = state.attestation_hub().await?;
    let from = match from {
        Some(from) => from,
        None => state.store(|conn| Attestations::head(conn.store())).await?,
    };
    Ok(respond(move |out| {
        tokio::spawn(async move { hub.follow(state, filter, from, out).await })
    }))
}

/// Where a job's stream is: its last event and its last log line; text `XID-SEQ.LINE`.
#[derive(Debug, Clone, Copy, Default)]
struct JobPosition {
    event: EventCursor,
    line: i64,
}

impl JobPosition {
    fn parse(text: &str) -> Result<Self, ApiError> {
        let bad = || bad_id(text, "XID-SEQ.LINE, e.g. 0-42.7");
        let (event, line) = text.split_once('.').ok_or_else(bad)?;
        Ok(Self {
            event: event.parse().map_err(|_| bad())?,
            line: line
                .parse()
                .ok()
                .filter(|_| line.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(bad)?,
        })
    }

    fn id(&self) -> String {
        format!("{}.{}", self.event, self.line)
    }
}

/// `?after=` of `GET /api/v1/jobs/{id}/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JobStreamParams {
    after: Option<String>,
}

/// A log line of a job's stream.
#[derive(Debug, Serialize)]
struct NumberedLine<'a> {
    number: i64,
    #[serde(flatten)]
    line: &'a LogLine,
}

/// `GET /api/v1/jobs/{id}/events` (scope `read`): the job's events (`job`) and log lines
/// (`log`) from its enqueue, or after the cursor given, until its final state; then `end`.
pub(super) async fn job_stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Result<Params<JobStreamParams>, QueryRejection>,
) -> Result<EventStream, ApiError> {
    caller.require(Scope::Read)?;
    let params = parameters(params)?;
    let from = resume_text(&headers, params.after.as_deref())?
        .map(JobPosition::parse)
        .transpose()?
        .unwrap_or_default();
    let id = state
        .store(move |conn| Ok(store::resolve_id(conn.store(), &id)?))
        .await?;
    Ok(respond(move |out| {
        tokio::spawn(async move { follow_job(state, id, from, out).await })
    }))
}

/// Send the job's events and lines after `at`, polling, until its final event is sent; at
/// once when `at` is past it already.
async fn follow_job(state: AppState, id: String, mut at: JobPosition, out: mpsc::Sender<Event>) {
    let filter = EventFilter {
        job_id: Some(id.clone()),
        ..EventFilter::default()
    };
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first = true;
    loop {
        tick.tick().await;
        let (job, wanted, after) = (id.clone(), filter.clone(), at);
        // The status before the events, and the events before the lines: the lines an
        // attempt wrote with its last change are read after it.
        let read = state
            .store(move |conn| {
                let status = if first {
                    conn.job_get(&job)?.map(|job| job.status)
                } else {
                    None
                };
                let events = conn.job_events_after(after.event, &wanted, BATCH)?;
                let lines = conn.job_logs_after(&job, after.line)?;
                // Final before the cursor: the client has had the final event. (On
                // PostgreSQL a final status can be visible before its event is.)
                let ended_before = match status {
                    Some(status) if status.is_final() && events.is_empty() => {
                        let finals = EventFilter {
                            status: Some(status),
                            ..wanted
                        };
                        let finals = conn.job_events_after(EventCursor::START, &finals, BATCH)?;
                        finals
                            .last()
                            .is_some_and(|last| last.cursor <= after.event)
                            .then_some(status)
                    }
                    _ => None,
                };
                Ok((ended_before, events, lines))
            })
            .await;
        let (ended_before, events, lines) = match read {
            Ok(read) => read,
            Err(error) => {
                let _ = out.send(hub::error_event(&error)).await;
                return;
            }
        };
        for (number, line) in &lines {
            at.line = *number;
            let event = Event::default()
                .event("log")
                .id(at.id())
                .json_data(NumberedLine {
                    number: *number,
                    line,
                })
                .unwrap_or_default();
            if out.send(event).await.is_err() {
                return;
            }
        }
        let ended = events
            .iter()
            .find(|event| event.status.is_final())
            .map(|event| event.status);
        for event in &events {
            at.event = event.cursor;
            if out.send(job_event(event, at.id())).await.is_err() {
                return;
            }
            if event.status.is_final() {
                break;
            }
        }
        if let Some(status) = ended.or(ended_before) {
            let end = Event::default()
                .event("end")
                .json_data(serde_json::json!({ "status": status }))
                .unwrap_or_default();
            let _ = out.send(end).await;
            return;
        }
        first = false;
    }
}
