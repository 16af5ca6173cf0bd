//! The `hostile` test plugin: each handler waits or grows where only the host can stop it.
//! The payload parameterises it (`{"ms": 20000}`, `{"path": "/data/fifo"}`, ...).
//!
//! Its manifest's `[config]` may hold `initialize_sleep_ms`: `initialize` then sleeps that long
//! first, as a plugin waiting on something at load would. `memories.wat` beside this crate is
//! the other hostile guest: a component with eight core memories of 60 MiB.

use std::hint::black_box;
use std::time::Duration;

use qntx_guest::{Config, Job, JobError, Plugin, PluginInfo, Registration, Value, json};

struct Hostile;

const HANDLERS: &[(&str, &str)] = &[
    (
        "sleep",
        "std::thread::sleep for payload.ms milliseconds (a wasi:clocks poll)",
    ),
    ("read", "Reads payload.path to its end (blocks on a FIFO)"),
    (
        "open-files",
        "Opens payload.path again and again, keeping every handle, until refused",
    ),
    (
        "symlink",
        "Creates a symbolic link payload.link pointing at payload.target",
    ),
    (
        "hard-link",
        "Creates a hard link payload.link to the file payload.target",
    ),
    (
        "deep-frames",
        "Recurses with 4 KiB frames in linear memory until the shadow stack overflows",
    ),
];

impl Plugin for Hostile {
    fn info() -> PluginInfo {
        PluginInfo::new("hostile", env!("CARGO_PKG_VERSION"), "Hostile test guest")
    }

    fn initialize(config: &Config) -> Result<Registration, String> {
        if let Some(ms) = config.get("initialize_sleep_ms") {
            let ms: u64 = ms
                .parse()
                .map_err(|e| format!("initialize_sleep_ms: {e}"))?;
            std::thread::sleep(Duration::from_millis(ms));
        }
        Ok(HANDLERS
            .iter()
            .fold(Registration::new(), |r, (name, description)| {
                r.handler(*name, *description)
            }))
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        let p = &job.payload;
        let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
        match job.handler.as_str() {
            "sleep" => {
                let ms = p["ms"].as_u64().unwrap_or(0);
                std::thread::sleep(Duration::from_millis(ms));
                Ok(json!({ "slept_ms": ms }))
            }
            "read" => Ok(json!(
                std::fs::read(text("path"))
                    .map(|bytes| bytes.len())
                    .map_err(|e| e.to_string())
            )),
            "open-files" => {
                let mut open = Vec::new();
                loop {
                    match std::fs::File::open(text("path")) {
                        Ok(file) => open.push(file),
                        Err(error) => {
                            return Ok(json!({ "opened": open.len(), "error": error.to_string() }));
                        }
                    }
                }
            }
            "symlink" => {
                #[expect(deprecated, reason = "the one stable way to make a symlink on wasip2")]
                let made = std::fs::soft_link(text("target"), text("link"));
                Ok(json!(made.map_err(|e| e.to_string())))
            }
            "hard-link" => Ok(json!(
                std::fs::hard_link(text("target"), text("link")).map_err(|e| e.to_string())
            )),
            "deep-frames" => Ok(json!(deep(black_box(0)))),
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

/// Recursion whose frames live in linear memory (the shadow stack, 64 KiB for qntx guests):
/// each call keeps a 4 KiB buffer alive across the next one.
#[expect(unconditional_recursion, reason = "the point: a shadow-stack overflow")]
#[inline(never)]
fn deep(depth: u64) -> u64 {
    let mut frame = [0u8; 4096];
    frame[usize::try_from(depth % 4096).unwrap_or(0)] = 1;
    black_box(&mut frame);
    deep(depth.wrapping_add(1)).wrapping_add(u64::from(frame[0]))
}

qntx_guest::export_plugin!(Hostile);
