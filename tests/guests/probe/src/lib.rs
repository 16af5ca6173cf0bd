//! The `probe` test plugin: each handler exercises one behaviour of the host, good or hostile.
//! The payload parameterises it (`{"n": 3}`, `{"path": "/etc/passwd"}`, ...).

use std::hint::black_box;

use qntx_guest::bindings::qntx::plugin::store as raw_store;
use qntx_guest::store::{self, Draft};
use qntx_guest::{
    Config, Job, JobError, Plugin, PluginInfo, Registration, Value, config, job, json, log,
};

struct Probe;

const HANDLERS: &[(&str, &str)] = &[
    ("ok", "Returns the payload"),
    ("panic", "Panics with payload.message"),
    (
        "fail",
        "Returns a permanent error, or a retryable one when payload.retryable",
    ),
    (
        "attempt",
        "Fails retryably until attempt payload.succeed_on, then returns the attempt",
    ),
    ("spin", "Loops forever"),
    (
        "sleep",
        "Busy-waits payload.ms milliseconds, reporting progress, then attests payload.subject",
    ),
    ("alloc", "Allocates until memory runs out"),
    ("recurse", "Recurses without bound"),
    (
        "attest",
        "Attests payload.n claims about payload.subject, each padded by payload.pad bytes",
    ),
    ("attest-then-panic", "Attests, then panics"),
    (
        "attest-then-panic-first",
        "Attests payload.n claims about payload.subject; panics on the first attempt",
    ),
    (
        "attest-then-spin",
        "Attests, then reports progress 1/1 in a loop until stopped",
    ),
    (
        "query",
        "Queries payload.subject with payload.limit (and payload.key = 1); returns the page size",
    ),
    ("forge", "Attests with actors = payload.actors"),
    (
        "attest-at",
        "Attests payload.subject at time payload.timestamp; returns the id or the refusal",
    ),
    ("read-own-writes", "Attests, then queries for it"),
    ("huge-result", "Returns a string of payload.bytes bytes"),
    (
        "log",
        "Logs payload.lines lines and prints to stdout and stderr",
    ),
    ("print", "Prints payload.bytes bytes to stdout, in lines"),
    ("read-file", "Reads payload.path"),
    ("write-file", "Writes payload.text to payload.path"),
    ("env", "Reads environment variable payload.name"),
    ("connect", "Opens a TCP connection to payload.addr"),
    ("resolve", "Looks up the addresses of payload.host"),
    (
        "busy",
        "Runs for payload.ms milliseconds; returns when it started and ended",
    ),
    (
        "progress",
        "Reports progress payload.steps times and adds cost",
    ),
    (
        "config",
        "Returns the manifest's config, and config payload.key as it is, parsed as a u32 and required",
    ),
];

impl Plugin for Probe {
    fn info() -> PluginInfo {
        PluginInfo::new("probe", env!("CARGO_PKG_VERSION"), "Test guest")
    }

    fn initialize(config: &Config) -> Result<Registration, String> {
        let registration = HANDLERS
            .iter()
            .fold(Registration::new(), |r, (name, description)| {
                r.handler(*name, *description)
            });
        // The manifest's config reaches `initialize`: `announce = "NAME"` adds a handler.
        Ok(match config.get("announce") {
            Some(name) => registration.handler(name, "Announced from the manifest's config"),
            None => registration,
        })
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        let p = &job.payload;
        let number = |key: &str, default: u64| p[key].as_u64().unwrap_or(default);
        let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
        match job.handler.as_str() {
            "ok" => Ok(job.payload),
            "panic" => panic!("boom: {}", text("message")),
            "fail" if p["retryable"].as_bool() == Some(true) => {
                Err(JobError::retryable(text("message")))
            }
            "fail" => Err(JobError::permanent(text("message"))),
            "attempt" if u64::from(job.attempt) < number("succeed_on", 1) => Err(
                JobError::retryable(format!("attempt {} is too early", job.attempt)),
            ),
            "attempt" => Ok(json!({ "attempt": job.attempt })),
            "spin" => {
                let mut i = 0u64;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "sleep" => {
                let ms = number("ms", 0);
                let started = std::time::Instant::now();
                loop {
                    let elapsed = started.elapsed().as_millis() as u64;
                    job::progress(elapsed.min(ms), ms);
                    if elapsed >= ms {
                        break;
                    }
                }
                if !text("subject").is_empty() {
                    store::attest(Draft::subject(text("subject")).predicate("slept"))?;
                }
                Ok(json!({ "slept_ms": ms, "attempt": job.attempt }))
            }
            "alloc" => {
                let mut blocks = Vec::new();
                loop {
                    blocks.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "recurse" => Ok(json!(recurse(black_box(1)))),
            "attest" => {
                let pad = "x".repeat(number("pad", 0) as usize);
                let ids = (0..number("n", 1))
                    .map(|i| {
                        let attributes = if pad.is_empty() {
                            json!({ "i": i })
                        } else {
                            json!({ "i": i, "pad": pad })
                        };
                        store::attest(
                            Draft::subject(text("subject"))
                                .predicate("probed")
                                .attributes(attributes),
                        )
                        .map(|a| a.id)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(json!(ids))
            }
            "attest-then-panic" => {
                store::attest(Draft::subject(text("subject")).predicate("probed"))?;
                panic!("after attesting");
            }
            "attest-then-panic-first" => {
                for i in 0..number("n", 1) {
                    store::attest(
                        Draft::subject(text("subject"))
                            .predicate("probed")
                            .attributes(json!({ "i": i })),
                    )?;
                }
                if job.attempt == 1 {
                    panic!("after attesting on attempt 1");
                }
                Ok(json!({ "attempt": job.attempt }))
            }
            "attest-then-spin" => {
                store::attest(Draft::subject(text("subject")).predicate("probed"))?;
                loop {
                    job::progress(1, 1);
                }
            }
            "query" => {
                let mut query =
                    store::Query::new(qntx_guest::Filter::new().subject(text("subject")))
                        .limit(number("limit", 0) as u32);
                if let Some(key) = p["key"].as_str() {
                    query = query.attribute(key, json!(1));
                }
                match query.page(None) {
                    Ok(page) => Ok(json!({
                        "count": page.attestations.len(),
                        "more": page.next_cursor.is_some(),
                    })),
                    Err(error) => Ok(json!({ "error": format!("{error:?}") })),
                }
            }
            "forge" => {
                let actors: Vec<String> = serde(&p["actors"])?;
                let stored = raw_store::attest(&raw_store::AttestationDraft {
                    subjects: vec!["forged".into()],
                    predicates: vec![],
                    contexts: vec![],
                    actors,
                    timestamp: None,
                    attributes: String::new(),
                })
                .map_err(|e| JobError::permanent(format!("{e:?}")))?;
                Ok(json!({ "id": stored.id, "actors": stored.actors, "source": stored.source }))
            }
            "attest-at" => {
                let at = p["timestamp"].as_i64().unwrap_or_default();
                Ok(
                    match store::attest(Draft::subject(text("subject")).predicate("dated").at(at)) {
                        Ok(stored) => json!({ "id": stored.id }),
                        Err(refusal) => json!({ "refused": refusal.to_string() }),
                    },
                )
            }
            "read-own-writes" => {
                let written = store::attest(Draft::subject(text("subject")).predicate("probed"))?;
                let found = store::Query::new(qntx_guest::Filter::new().subject(text("subject")))
                    .first()?;
                Ok(
                    json!({ "written": written.id, "found": found.iter().map(|a| &a.id).collect::<Vec<_>>() }),
                )
            }
            "huge-result" => Ok(json!("x".repeat(number("bytes", 0) as usize))),
            "log" => {
                for i in 0..number("lines", 1) {
                    log::info(format!("line {i}"));
                }
                println!("to stdout");
                eprintln!("to stderr");
                Ok(Value::Null)
            }
            "print" => {
                let line = "p".repeat(99);
                for _ in 0..number("bytes", 0) / 100 {
                    println!("{line}");
                }
                Ok(json!("printed"))
            }
            "read-file" => Ok(json!(
                std::fs::read_to_string(text("path")).map_err(|e| e.to_string())
            )),
            "write-file" => Ok(json!(
                std::fs::write(text("path"), text("text")).map_err(|e| e.to_string())
            )),
            "env" => Ok(json!(std::env::var(text("name")).ok())),
            "config" => Ok(json!({
                "all": config::all(),
                "get": config::get(&text("key")),
                "parsed": config::parse::<u32>(&text("key")).map_err(|e| e.to_string()),
                "required": config::require(&text("key")).map_err(|e| e.to_string()),
            })),
            "connect" => Ok(json!(
                std::net::TcpStream::connect(text("addr"))
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            )),
            "resolve" => Ok(json!(
                std::net::ToSocketAddrs::to_socket_addrs(&(text("host").as_str(), 80))
                    .map(|addrs| addrs.map(|a| a.to_string()).collect::<Vec<_>>())
                    .map_err(|e| e.to_string())
            )),
            "busy" => {
                let now = || {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis())
                };
                let start = now();
                while now() < start + u128::from(number("ms", 0)) {
                    std::hint::spin_loop();
                }
                Ok(json!({ "start": start, "end": now() }))
            }
            "progress" => {
                let steps = number("steps", 1);
                for step in 1..=steps {
                    job::progress(step, steps);
                    job::add_cost(0.5);
                }
                Ok(json!({ "steps": steps }))
            }
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

/// Recursion that only the wasm call stack can hold (no frame in linear memory), and that the
/// compiler cannot turn into a loop.
#[expect(unconditional_recursion, reason = "the point: a stack overflow")]
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    recurse(depth.wrapping_add(1)).wrapping_mul(depth) | 1
}

fn serde<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, JobError> {
    qntx_guest::serde_json::from_value(value.clone()).map_err(JobError::from)
}

qntx_guest::export_plugin!(Probe);
