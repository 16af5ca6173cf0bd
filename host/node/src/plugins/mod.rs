//! Plugins: finding components in plugin directories, checking them against the `qntx:plugin`
//! world, calling `initialize`, and registering what they announce with Pulse (ADR-004).
//!
//! A plugin is registered as `<name>/<handler>` for each handler it announces. Each file is
//! loaded on its own (several at once): a broken file is reported with a specific reason and the
//! others still load; a name claimed by two files refuses both. Each plugin is served as soon
//! as no other file can still claim its name, while slower files are still loading. What each load found is
//! recorded ([`record`]), so that listing plugins does not run them.
//! A manifest beside the component ([`manifest`]) grants it capabilities and sets its limits;
//! [`inspect`] tells what a file is and whether this node would load it.

pub mod announce;
mod catalog;
mod checker;
mod error;
mod file;
mod inspect;
pub mod listing;
mod load;
pub mod manifest;
mod names;
pub mod record;

pub use catalog::{Catalog, PARALLEL_LOADS, load_all, load_all_serving};
pub use checker::{Checker, CheckerError, checking_runtime, scratch_store};
pub use error::Error;
pub use file::PluginFile;
pub use inspect::{Inspection, inspect, world_built_for};
pub use load::{LoadedPlugin, discover, load, load_bytes, load_file};
pub use manifest::{Manifest, Policy};
pub use names::{check_handler_name, check_plugin_name};
pub use record::{FileKey, Record};
