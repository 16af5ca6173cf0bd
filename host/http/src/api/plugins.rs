//! Plugins: the files in the node's plugin directories, listed and inspected as `qntx plugin
//! list` and `qntx plugin inspect` do.

use axum::Json;
use axum::extract::{Path, State};
use qntx_core::tokens::Scope;
use qntx_node::plugins::listing::{self, Listed, State as Known};
use qntx_node::plugins::{self, Checker, Inspection};
use serde_json::{Value, json};

use crate::ApiError;
use crate::auth::Caller;
use crate::state::AppState;

/// A listing that failed: the store's faults as such, anything else is the node's.
fn listing_error(error: plugins::Error) -> ApiError {
    match error {
        plugins::Error::Records(error) => error.into(),
        error => ApiError::internal(&error),
    }
}

/// `GET /api/v1/plugins` (scope `read`): every plugin file with what a node recorded when it
/// last loaded it, as `qntx plugin list --json`; runs no plugin code.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let dirs = state.node().plugin_dirs.clone();
    let listed = state
        .store(move |conn| listing::list(conn.store(), &dirs).map_err(listing_error))
        .await?;
    let plugins: Vec<Value> = listed.iter().map(Listed::to_json).collect();
    Ok(Json(json!({ "plugins": plugins })))
}

/// The plugin named `name`: the file a node recorded under that name, else the file
/// `<name>.wasm`.
fn find(listed: Vec<Listed>, name: &str) -> Option<Listed> {
    let recorded = |entry: &Listed| match &entry.state {
        Known::Loaded(record) | Known::Refused(record) | Known::Clash { record, .. } => {
            record.name.as_deref() == Some(name)
        }
        Known::NeverLoaded | Known::Unreadable(_) => false,
    };
    let (by_record, others): (Vec<Listed>, Vec<Listed>) = listed.into_iter().partition(recorded);
    by_record.into_iter().next().or_else(|| {
        others
            .into_iter()
            .find(|entry| entry.path.file_stem().and_then(|stem| stem.to_str()) == Some(name))
    })
}

/// `GET /api/v1/plugins/{name}` (scope `read`): what the plugin is, what it asks for and
/// whether this node would load it, as `qntx plugin inspect FILE --json`. A file no node has
/// loaded is loaded to answer (its `initialize` runs once, in a sandbox).
pub(super) async fn inspect(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Inspection>, ApiError> {
    caller.require(Scope::Read)?;
    let node = state.node().clone();
    let inspection = state
        .store(move |conn| {
            let listed = listing::list(conn.store(), &node.plugin_dirs).map_err(listing_error)?;
            let entry = find(listed, &name).ok_or_else(|| {
                ApiError::not_found(format!(
                    "no plugin '{name}' in the node's plugin directories; GET /api/v1/plugins \
                     lists them"
                ))
            })?;
            let checker =
                Checker::new(node.cache_dir.clone()).map_err(|error| ApiError::internal(&error))?;
            plugins::inspect(
                &checker.runtime,
                &entry.path,
                conn.store(),
                &checker.scratch,
            )
            .map_err(|error| {
                ApiError::not_found(format!(
                    "plugin '{name}' ({}) cannot be read: {error}",
                    entry.path.display()
                ))
            })
        })
        .await?;
    Ok(Json(inspection))
}
