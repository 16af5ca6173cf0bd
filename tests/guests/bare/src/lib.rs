//! A plugin built from `wit/plugin.wit` with wit-bindgen alone, no `qntx-guest`: what the
//! README's "Building a plugin without the SDK" shows for Rust. `greet` answers with the
//! manifest's `greeting` (through the `config` interface); `fail` fails permanently.

#![expect(unsafe_code, reason = "the export glue wit-bindgen generates")]

#[expect(clippy::too_many_arguments, reason = "generated code")]
mod bindings {
    wit_bindgen::generate!({ world: "plugin", path: "../../../wit/plugin.wit" });
}

use bindings::qntx::plugin::types::{
    HandlerSpec, Job, JobError, LogLevel, Outcome, PluginInfo, Registration,
};
use bindings::qntx::plugin::{config, logging};

struct Bare;

impl bindings::Guest for Bare {
    fn metadata() -> PluginInfo {
        PluginInfo {
            name: "bare".into(),
            version: "1.0.0".into(),
            description: "Built with wit-bindgen alone".into(),
        }
    }

    fn initialize(_config: Vec<(String, String)>) -> Result<Registration, String> {
        let handler = |name: &str| HandlerSpec {
            name: name.into(),
            description: String::new(),
        };
        Ok(Registration {
            handlers: vec![handler("greet"), handler("fail")],
            schedules: Vec::new(),
            watchers: Vec::new(),
        })
    }

    fn execute_job(job: Job) -> Result<Outcome, JobError> {
        match job.handler.as_str() {
            "greet" => {
                let greeting = config::get("greeting").unwrap_or_else(|| "hello".into());
                logging::log(LogLevel::Info, &format!("greeting with '{greeting}'"));
                // The payload and the result are JSON text; a string needs its quotes.
                let text = format!("{greeting}, {}", job.payload.trim_matches('"'));
                Ok(Outcome {
                    result: format!("{text:?}"),
                })
            }
            other => Err(JobError::Permanent(format!("'{other}' fails on purpose"))),
        }
    }
}

bindings::export!(Bare with_types_in bindings);
