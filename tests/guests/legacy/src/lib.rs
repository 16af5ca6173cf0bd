//! A plugin built against `qntx:plugin@0.1.0` (`wit/v0.1.0`), before the `config` interface:
//! a node implementing a later 0.1.x must keep loading it. `attest` writes through the store,
//! so the job crosses the 0.1.0 imports.

#![expect(unsafe_code, reason = "the export glue wit-bindgen generates")]

#[expect(clippy::too_many_arguments, reason = "generated code")]
mod bindings {
    wit_bindgen::generate!({ world: "plugin", path: "../../../wit/v0.1.0/plugin.wit" });
}

use bindings::qntx::plugin::store::{self, AttestationDraft};
use bindings::qntx::plugin::types::{
    HandlerSpec, Job, JobError, Outcome, PluginInfo, Registration,
};

struct Legacy;

impl bindings::Guest for Legacy {
    fn metadata() -> PluginInfo {
        PluginInfo {
            name: "legacy".into(),
            version: "0.1.0".into(),
            description: "Built against qntx:plugin@0.1.0".into(),
        }
    }

    fn initialize(config: Vec<(String, String)>) -> Result<Registration, String> {
        let description = format!("{} config values at initialize", config.len());
        Ok(Registration {
            handlers: vec![HandlerSpec {
                name: "attest".into(),
                description,
            }],
            schedules: Vec::new(),
            watchers: Vec::new(),
        })
    }

    fn execute_job(job: Job) -> Result<Outcome, JobError> {
        let draft = AttestationDraft {
            subjects: vec![job.id.clone()],
            predicates: vec!["ran".into()],
            contexts: Vec::new(),
            actors: Vec::new(),
            timestamp: None,
            attributes: String::new(),
        };
        let stored = store::attest(&draft)
            .map_err(|error| JobError::Permanent(format!("attest failed: {error:?}")))?;
        Ok(Outcome {
            result: format!("{:?}", stored.id),
        })
    }
}

bindings::export!(Legacy with_types_in bindings);
