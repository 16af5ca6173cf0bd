//! The benchmark guest. `noop` returns `null` without looking at its payload, so that a
//! benchmark of it measures the node and the sandbox; `sleep` blocks for `payload.ms`
//! milliseconds (a guest that waits, holding its instance, to count what an in-flight job
//! costs the node); `touch` writes `payload.kib` KiB of fresh heap (what recycling the memory
//! of a guest that uses some costs).
//!
//! The plugin's name is the package name without `qntx-guest-`: `noop` here, and `noop-N` for
//! the copies `qntx-bench` builds to load ten distinct plugins.

use qntx_guest::{Config, Job, JobError, Plugin, PluginInfo, Registration, Value};

struct Noop;

impl Plugin for Noop {
    fn info() -> PluginInfo {
        let name = env!("CARGO_PKG_NAME").trim_start_matches("qntx-guest-");
        PluginInfo::new(name, env!("CARGO_PKG_VERSION"), "Benchmark guest")
    }

    fn initialize(_config: &Config) -> Result<Registration, String> {
        Ok(Registration::new()
            .handler("noop", "Returns null")
            .handler("sleep", "Sleeps payload.ms milliseconds, then returns null")
            .handler("touch", "Writes payload.kib KiB of heap, then returns null"))
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        match job.handler.as_str() {
            "noop" => Ok(Value::Null),
            "sleep" => {
                let ms = job.payload["ms"].as_u64().unwrap_or(0);
                std::thread::sleep(std::time::Duration::from_millis(ms));
                Ok(Value::Null)
            }
            "touch" => {
                let kib = job.payload["kib"].as_u64().unwrap_or(0);
                let heap = vec![1u8; usize::try_from(kib).unwrap_or(0) * 1024];
                std::hint::black_box(&heap);
                Ok(Value::Null)
            }
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

qntx_guest::export_plugin!(Noop);
