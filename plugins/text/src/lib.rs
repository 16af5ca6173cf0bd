//! The `text` plugin: `text/echo` returns its payload; `text/stats` counts the lines, words and
//! bytes of `payload.text`, attests the counts about `payload.subject` (default `text`) and
//! returns them.

use qntx_guest::store::{self, Draft};
use qntx_guest::{Config, Job, JobError, Plugin, PluginInfo, Registration, Value, job, json};

/// Text utilities.
struct Text;

impl Plugin for Text {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "text",
            env!("CARGO_PKG_VERSION"),
            "Echo payloads and count lines, words and bytes of text",
        )
    }

    fn initialize(_config: &Config) -> Result<Registration, String> {
        Ok(Registration::new()
            .handler("echo", "Returns the payload unchanged")
            .handler(
                "stats",
                "Counts lines, words and bytes of payload.text and attests them",
            ))
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        match job.handler.as_str() {
            "echo" => Ok(job.payload),
            "stats" => stats(&job),
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

/// Lines, words and bytes of a text, counted in chunks so progress is visible on large inputs.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
}

const CHUNK_LINES: usize = 10_000;

fn stats(job: &Job) -> Result<Value, JobError> {
    let text = job.payload["text"]
        .as_str()
        .ok_or_else(|| JobError::permanent("payload.text must be a string"))?;
    let subject = job.payload["subject"].as_str().unwrap_or("text");

    let total = text.len() as u64;
    let mut counts = Counts {
        bytes: total,
        ..Counts::default()
    };
    let mut done = 0u64;
    job::progress(0, total);
    let mut lines = text.split_inclusive('\n').peekable();
    while lines.peek().is_some() {
        for line in lines.by_ref().take(CHUNK_LINES) {
            counts.lines += 1;
            counts.words += line.split_whitespace().count() as u64;
            done += line.len() as u64;
        }
        job::progress(done, total);
    }

    let result = json!({ "lines": counts.lines, "words": counts.words, "bytes": counts.bytes });
    let attestation = store::attest(
        Draft::subject(subject)
            .predicate("text_stats")
            .context(format!("job:{}", job.id))
            .attributes(result.clone()),
    )?;
    Ok(json!({
        "lines": counts.lines,
        "words": counts.words,
        "bytes": counts.bytes,
        "attestation": attestation.id,
    }))
}

qntx_guest::export_plugin!(Text);
