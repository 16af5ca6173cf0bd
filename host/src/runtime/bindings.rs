//! The host side of the `qntx:plugin` world, generated from `wit/`.

mod generated {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
        imports: { default: trappable | tracing },
    });
}

pub use generated::PluginPre;
pub use generated::qntx::plugin::{job_context, logging, pulse, store, types};

/// The WIT package and version this node implements.
pub const WORLD: &str = "qntx:plugin/plugin@0.1.0";
/// The WIT package name, without version.
pub const PACKAGE: &str = "qntx:plugin";
/// The WIT package version.
pub const VERSION: &str = "0.1.0";
