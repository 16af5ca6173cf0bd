//! The `code` plugin: `code/analyze` walks a source tree that its manifest grants read-only,
//! counts files and lines per language and a simple complexity measure (branch points per 100
//! lines of code), and attests the totals as `repository_analyzed` about the repository, plus
//! `file_analyzed` for the largest files.
//!
//! Payload: `{"path": "/repo", "repository": "github.com/teranos/qntx", "largest": 5}`; `path`
//! is a path inside the sandbox (a directory granted by the manifest).

mod analysis;

use std::path::Path;

use qntx_guest::store::{self, Draft};
use qntx_guest::{Config, Job, JobError, Plugin, PluginInfo, Registration, Value, job, json, log};
use serde::Deserialize;

use analysis::Tree;

struct Code;

#[derive(Deserialize)]
struct Request {
    path: String,
    repository: String,
    #[serde(default = "default_largest")]
    largest: usize,
}

fn default_largest() -> usize {
    5
}

impl Plugin for Code {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "code",
            env!("CARGO_PKG_VERSION"),
            "Source tree analysis: languages, lines, complexity",
        )
    }

    fn initialize(_config: &Config) -> Result<Registration, String> {
        Ok(Registration::new().handler(
            "analyze",
            "Analyse payload.path and attest repository_analyzed about payload.repository",
        ))
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        match job.handler.as_str() {
            "analyze" => analyze(job.payload_as()?),
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

fn analyze(request: Request) -> Result<Value, JobError> {
    let tree = Tree::walk(Path::new(&request.path), |done| job::progress(done, 0))
        .map_err(|e| JobError::permanent(format!("reading '{}': {e}", request.path)))?;
    log::info(format!(
        "{} files, {} lines of code in {} languages",
        tree.files.len(),
        tree.code_lines(),
        tree.languages().len()
    ));
    let largest = tree.largest(request.largest);
    for file in &largest {
        store::attest(
            Draft::subject(format!("{}/{}", request.repository, file.path))
                .predicate("file_analyzed")
                .context("code")
                .attributes(json!({
                    "repository": request.repository,
                    "language": file.language,
                    "lines": file.lines,
                    "code_lines": file.code_lines,
                    "branches": file.branches,
                    "complexity": file.complexity(),
                })),
        )?;
    }
    let summary = json!({
        "files": tree.files.len(),
        "lines": tree.lines(),
        "code_lines": tree.code_lines(),
        "complexity": tree.complexity(),
        "languages": tree.languages(),
        "largest_files": largest.iter().map(|f| json!({ "path": f.path, "code_lines": f.code_lines })).collect::<Vec<_>>(),
    });
    let attestation = store::attest(
        Draft::subject(request.repository.as_str())
            .predicate("repository_analyzed")
            .context("code")
            .attributes(summary.clone()),
    )?;
    Ok(json!({ "attestation": attestation.id, "summary": summary }))
}

qntx_guest::export_plugin!(Code);
