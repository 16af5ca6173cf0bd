//! The host side of the `qntx:plugin` world, generated from `wit/`.

// Generated from the WIT, where every item is documented.
#[allow(missing_docs)]
mod generated {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../../wit",
        // The host's own imports return at once (store reads are bounded by SQLite's busy
        // timeout), so they stay synchronous; the exports are async so that a guest blocked in a
        // WASI call can be stopped from outside (see `drive.rs`).
        imports: { default: trappable | tracing },
        exports: { default: async },
    });
}

pub use generated::PluginPre;
pub use generated::qntx::plugin::{config, job_context, logging, pulse, store, types};

/// The WIT package and version this node implements.
pub const WORLD: &str = "qntx:plugin/plugin@0.1.1";
/// The WIT package name, without version.
pub const PACKAGE: &str = "qntx:plugin";
/// The WIT package version.
pub const VERSION: &str = "0.1.1";
/// Every version of the package this node loads: each later one only adds to the one before,
/// and wasmtime's linker matches a component's `@0.1.x` imports to ours semver-compatibly.
pub const COMPATIBLE_VERSIONS: &[&str] = &["0.1.0", "0.1.1"];
