//! The `upkeep` plugin: ADR-003's cross-domain dependency made real. It never calls the `code`
//! plugin; it watches for `repository_analyzed` attestations by `code`, reads the analysis
//! through the store, and attests a judgement of its own, `maintenance_estimated` (context
//! `finance`), that names the analysis it is `based_on`.
//!
//! The estimate: 20 hours a year per 1,000 lines of code, raised by branch density (complexity
//! 10 adds half), at 100 per hour; the risk score (0–100) grows with branch density and with
//! the size of the largest file.

use qntx_guest::store::{Attestation, Draft, Query};
use qntx_guest::{
    Config, Filter, Job, JobError, Plugin, PluginInfo, Registration, Value, Watcher, json, store,
};

struct Upkeep;

/// Hours of upkeep a year per 1,000 lines of code at zero complexity.
const HOURS_PER_KLOC: f64 = 20.0;
/// Cost of an hour.
const HOURLY_RATE: f64 = 100.0;

impl Plugin for Upkeep {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "upkeep",
            env!("CARGO_PKG_VERSION"),
            "Maintenance cost and risk of analysed repositories",
        )
    }

    fn initialize(_config: &Config) -> Result<Registration, String> {
        Ok(Registration::new()
            .handler(
                "assess",
                "Estimate the upkeep of the repository a repository_analyzed attestation is about",
            )
            .watcher(Watcher::new(
                "assess",
                Filter::new()
                    .predicate("repository_analyzed")
                    .actor("plugin:code"),
            )))
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        match job.handler.as_str() {
            "assess" => assess(&job.payload),
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

/// `payload` is the triggering attestation (or any object with `subjects`).
fn assess(payload: &Value) -> Result<Value, JobError> {
    let repository = payload["subjects"][0]
        .as_str()
        .ok_or_else(|| JobError::permanent("payload.subjects[0] must name a repository"))?;
    let trigger = payload["id"].as_str();
    let analyses = Query::new(
        Filter::new()
            .subject(repository)
            .predicate("repository_analyzed")
            .actor("plugin:code"),
    )
    .limit(20)
    .first()?;
    let analysis = analyses
        .iter()
        .find(|a| Some(a.id.as_str()) == trigger)
        .or(analyses.first())
        .ok_or_else(|| {
            JobError::permanent(format!(
                "no repository_analyzed attestation about '{repository}'"
            ))
        })?;
    let estimate = estimate(analysis);
    store::attest(
        Draft::subject(repository)
            .predicate("maintenance_estimated")
            .context("finance")
            .attributes(estimate.clone()),
    )?;
    Ok(estimate)
}

fn estimate(analysis: &Attestation) -> Value {
    let attributes = &analysis.attributes;
    let code_lines = attributes["code_lines"].as_f64().unwrap_or(0.0);
    let complexity = attributes["complexity"].as_f64().unwrap_or(0.0);
    let largest = attributes["largest_files"][0]["code_lines"]
        .as_f64()
        .unwrap_or(0.0);
    let hours = code_lines / 1000.0 * HOURS_PER_KLOC * (1.0 + complexity / 20.0);
    let risk = (complexity * 2.0 + largest / 50.0).clamp(0.0, 100.0);
    json!({
        "based_on": analysis.id,
        "code_lines": code_lines,
        "complexity": complexity,
        "annual_hours": hours.round(),
        "annual_cost": (hours * HOURLY_RATE).round(),
        "hourly_rate": HOURLY_RATE,
        "risk_score": risk.round(),
    })
}

qntx_guest::export_plugin!(Upkeep);
