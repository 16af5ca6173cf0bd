//! `GET /`: how many jobs are in each status, the busiest handlers, budget spend.

use std::collections::BTreeMap;

use axum::extract::State;
use maud::{Markup, html};
use qntx_core::clock::now_ms;
use qntx_core::pulse::{BudgetLimits, JobStatus, Period, Spend, store};

use super::format;
use super::layout::{self, Section};
use super::viewer::Viewer;
use crate::ApiError;
use crate::state::AppState;

/// Handlers the overview lists at most.
const BUSIEST: usize = 10;

/// Jobs in each status, in the order of [`JobStatus::ALL`].
type Statuses = [u64; JobStatus::ALL.len()];

/// The place of `status` in [`Statuses`].
fn slot(status: JobStatus) -> usize {
    JobStatus::ALL
        .iter()
        .position(|each| *each == status)
        .unwrap_or_default()
}

/// What the overview shows, read in one go.
struct Overview {
    totals: Statuses,
    by_handler: Vec<(String, Statuses)>,
    limits: BudgetLimits,
    spend: Spend,
}

/// `GET /`.
pub(super) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Markup, ApiError> {
    let overview = state
        .store(|conn| {
            let counts = store::counts(conn.store())?;
            let now = now_ms();
            let limits = store::budget_limits(conn.store())?;
            let spend = store::spend(conn.store(), now)?;
            let mut totals = Statuses::default();
            let mut handlers: BTreeMap<String, Statuses> = BTreeMap::new();
            for count in counts.by_handler {
                totals[slot(count.status)] += count.count;
                handlers.entry(count.handler).or_default()[slot(count.status)] += count.count;
            }
            let mut by_handler: Vec<_> = handlers.into_iter().collect();
            by_handler.sort_by_key(|(_, statuses)| std::cmp::Reverse(statuses.iter().sum::<u64>()));
            by_handler.truncate(BUSIEST);
            Ok(Overview {
                totals,
                by_handler,
                limits,
                spend,
            })
        })
        .await?;
    Ok(layout::page(
        &viewer,
        Section::Overview,
        "Overview",
        body(&overview),
    ))
}

fn body(overview: &Overview) -> Markup {
    let stored: u64 = overview.totals.iter().sum();
    html! {
        section.counts aria-label="jobs by status" {
            @for status in JobStatus::ALL {
                a.count href={ "/jobs?status=" (status.as_str()) } {
                    span.number data-count=(status.as_str()) {
                        (overview.totals[slot(status)])
                    }
                    (format::status(status))
                }
            }
        }
        section {
            h2 { "Busiest handlers" }
            @if overview.by_handler.is_empty() {
                p.empty { "No jobs are stored: enqueue one with "
                    code { "qntx job enqueue HANDLER" } " or POST /api/v1/jobs." }
            } @else {
                table {
                    thead { tr { th { "handler" } @for status in JobStatus::ALL { th.num { (status.as_str()) } } } }
                    tbody {
                        @for (handler, statuses) in &overview.by_handler {
                            tr {
                                td { a href={ "/jobs?handler=" (handler) } { (handler) } }
                                @for status in JobStatus::ALL {
                                    td.num { (statuses[slot(status)]) }
                                }
                            }
                        }
                    }
                }
                p.hint { (stored) @if stored == 1 { " job" } @else { " jobs" } " stored in all." }
            }
        }
        section {
            h2 { "Budget" }
            table {
                thead { tr { th { "window" } th.num { "spent" } th.num { "limit" } th { "" } } }
                tbody {
                    @for period in Period::ALL {
                        @let spent = overview.spend.settled(period);
                        @let limit = overview.limits.get(period);
                        tr {
                            td { (period.as_str()) }
                            td.num { (format!("{spent:.4}")) }
                            td.num { (limit.map_or_else(|| "none".to_owned(), |limit| format!("{limit:.4}"))) }
                            td {
                                @if let Some(limit) = limit {
                                    meter min="0" max=(limit.max(f64::EPSILON)) value=(spent.min(limit)) {}
                                }
                            }
                        }
                    }
                }
            }
            p.hint { (format!("{:.4}", overview.spend.reserved)) " reserved by running jobs." }
        }
    }
}
