//! The `swarm` test plugin: jobs that attack the queue rather than the sandbox.

use std::hint::black_box;

use qntx_guest::{Config, Job, JobError, Plugin, PluginInfo, Registration, Value, json, pulse};

struct Swarm;

impl Plugin for Swarm {
    fn info() -> PluginInfo {
        PluginInfo::new(
            "swarm",
            env!("CARGO_PKG_VERSION"),
            "Test guest hostile to the queue",
        )
    }

    fn initialize(_config: &Config) -> Result<Registration, String> {
        Ok(Registration::new()
            .handler("fork", "Enqueues payload.n (default 100) copies of itself")
            .handler("spin", "Loops until stopped")
            .handler(
                "enqueue",
                "Enqueues payload.count (default 1) children with the fields of the payload; returns the last id or the first refusal",
            ))
    }

    fn execute(job: Job) -> Result<Value, JobError> {
        let p = &job.payload;
        match job.handler.as_str() {
            "fork" => {
                let n = p["n"].as_u64().unwrap_or(100);
                for _ in 0..n {
                    pulse::enqueue(pulse::NewJob::new("swarm/fork", p))?;
                }
                Ok(json!({ "forked": n }))
            }
            "spin" => {
                let mut i = 0u64;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "enqueue" => {
                for _ in 1..p["count"].as_u64().unwrap_or(1) {
                    if let Err(error) = pulse::enqueue(child(p)) {
                        return Ok(json!({ "refused": error.to_string() }));
                    }
                }
                Ok(match pulse::enqueue(child(p)) {
                    Ok(id) => json!({ "id": id }),
                    Err(error) => json!({ "refused": error.to_string() }),
                })
            }
            other => Err(JobError::permanent(format!("no handler '{other}'"))),
        }
    }
}

/// A child job with the fields of payload `p`: handler, payload_bytes, timeout_ms, delay_ms,
/// priority, max_attempts, cost (text, so that NaN and infinities can be asked for).
fn child(p: &Value) -> pulse::NewJob {
    let bytes = p["payload_bytes"].as_u64().unwrap_or(0) as usize;
    let payload = if bytes > 0 {
        json!("x".repeat(bytes))
    } else {
        json!({})
    };
    let mut child = pulse::NewJob::new(p["handler"].as_str().unwrap_or("probe/ok"), &payload);
    if let Some(ms) = p["timeout_ms"].as_u64() {
        child = child.timeout_ms(ms);
    }
    if let Some(ms) = p["delay_ms"].as_u64() {
        child = child.delay_ms(ms);
    }
    if let Some(priority) = p["priority"].as_i64() {
        child = child.priority(priority as i32);
    }
    if let Some(attempts) = p["max_attempts"].as_u64() {
        child = child.max_attempts(attempts as u32);
    }
    if let Some(cost) = p["cost"].as_str() {
        child = child.cost_estimate(cost.parse().unwrap_or(f64::NAN));
    }
    child
}

qntx_guest::export_plugin!(Swarm);
