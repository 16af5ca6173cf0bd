//! Write qntx plugins and job handlers in Rust.
//!
//! A plugin is a WebAssembly component that a qntx node loads into a sandbox. It announces its
//! handlers when it is initialised; the node registers them with Pulse as `<plugin>/<handler>`
//! and runs each job for them in a fresh instance. A plugin reaches the outside world only
//! through this crate: the attestation [`store`], [`pulse`] for new jobs, the running [`job`]'s
//! progress and cost, the manifest's [`config`], and [`log`].
//!
//! Implement [`Plugin`] and name the type in [`export_plugin!`]; build with
//! `qntx plugin build PATH` (a `cdylib` crate for `wasm32-wasip2`).
//!
//! # Examples
//!
//! ```
//! use qntx_guest::{Config, Job, JobError, Plugin, PluginInfo, Registration, Value, json, store};
//!
//! struct Greeter;
//!
//! impl Plugin for Greeter {
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("greeter", env!("CARGO_PKG_VERSION"), "Greets people")
//!     }
//!
//!     fn initialize(_config: &Config) -> Result<Registration, String> {
//!         Ok(Registration::new().handler("greet", "Says hello to payload.name"))
//!     }
//!
//!     fn execute(job: Job) -> Result<Value, JobError> {
//!         let name = job.payload["name"]
//!             .as_str()
//!             .ok_or_else(|| JobError::permanent("payload.name must be a string"))?;
//!         store::attest(store::Draft::subject(name).predicate("greeted"))?;
//!         Ok(json!({ "greeting": format!("hello, {name}") }))
//!     }
//! }
//!
//! qntx_guest::export_plugin!(Greeter);
//! ```
//!
//! A user handler (`qntx handler create NAME --file handle.rs`) is one function; name it in
//! [`export_handler!`], which supplies `metadata` and `initialize`:
//!
//! ```
//! use qntx_guest::{Job, JobError, Value, json};
//!
//! fn handle(job: Job) -> Result<Value, JobError> {
//!     Ok(json!({ "echo": job.payload }))
//! }
//!
//! qntx_guest::export_handler!(handle);
//! ```

mod handler;
mod job_error;
mod plugin;
mod registration;

pub mod config;
pub mod job;
pub mod log;
pub mod pulse;
pub mod store;

pub use job::Job;
pub use job_error::{HostError, JobError};
pub use plugin::{Config, Plugin, PluginInfo};
pub use registration::{Filter, Registration, Schedule, Watcher};
pub use serde_json::{self, Value, json};

/// The generated WIT bindings of the `qntx:plugin` world. Plugin code uses the wrappers in this
/// crate; the bindings are public for [`export_plugin!`] and for the rare guest that needs them.
#[doc(hidden)]
#[expect(clippy::too_many_arguments, reason = "generated code")]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "export_bindings",
        default_bindings_module: "qntx_guest::bindings",
    });
}

/// Glue used by [`export_plugin!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::handler::name as handler_name;
    pub use crate::plugin::{execute, info, initialize};
}

/// Export a [`Plugin`] implementation as the component's `qntx:plugin` world.
///
/// Use it once per crate, at the top level: `qntx_guest::export_plugin!(MyPlugin);`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            struct QntxExport;

            impl $crate::bindings::Guest for QntxExport {
                fn metadata() -> $crate::bindings::qntx::plugin::types::PluginInfo {
                    $crate::__private::info::<$plugin>()
                }

                fn initialize(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<
                    $crate::bindings::qntx::plugin::types::Registration,
                    ::std::string::String,
                > {
                    $crate::__private::initialize::<$plugin>(config)
                }

                fn execute_job(
                    job: $crate::bindings::qntx::plugin::types::Job,
                ) -> ::std::result::Result<
                    $crate::bindings::qntx::plugin::types::Outcome,
                    $crate::bindings::qntx::plugin::types::JobError,
                > {
                    $crate::__private::execute::<$plugin>(job)
                }
            }

    $crate::bindings::export_bindings!(QntxExport with_types_in $crate::bindings);
        };
    };
}
