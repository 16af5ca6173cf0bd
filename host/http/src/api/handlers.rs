//! User handlers: create (from source or a `.wasm` component), list, show, history, source,
//! roll back and remove, as `qntx handler` does.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use qntx_core::clock::now_ms;
use qntx_core::error_chain;
use qntx_core::tokens::Scope;
use qntx_node::handlers::{self, CreateError, Event};
use qntx_node::plugins::Checker;
use qntx_node::toolchain::{self, HandlerSource, Language};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::auth::Caller;
use crate::state::{AppState, NodeContext};

/// Longest a handler create may take: building from source can install a toolchain and
/// compile a crate, far beyond the API's usual request timeout.
pub(super) const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

/// The content type of a component upload.
const WASM: &str = "application/wasm";

/// The query of a component upload: `POST /api/v1/handlers?name=NAME&description=TEXT`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadParams {
    name: String,
    #[serde(default)]
    description: String,
}

/// A handler from source: `{"name", "language": "rust"|"python"|"js", "source", "description"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceBody {
    name: String,
    language: String,
    source: String,
    #[serde(default)]
    description: String,
}

/// What a request to create a handler gives: the handler's name, description, language and
/// the source (or component) bytes.
struct NewHandler {
    name: String,
    description: String,
    language: Language,
    code: Vec<u8>,
}

/// `POST /api/v1/handlers` (scope `admin`): build, check and store a new version, as `qntx
/// handler create` does. `application/wasm`: the body is a component, `name` and
/// `description` are query parameters; `application/json`: a [`SourceBody`]. 201 with the
/// version; a component that fails a check is refused with the reason, and nothing is stored.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<Value>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Scope::Admin)?;
    let new = new_handler(&headers, params, &body)?;
    let node = state.node().clone();
    let version = state
        .store(move |conn| {
            let checker = checker(&node)?;
            let toolchains = toolchain::toolchains_dir(node.toolchains.as_deref())
                .map_err(build_error)?;
            let label = format!("{}.{}", new.name, extension(new.language));
            let created = handlers::create(
                conn,
                &checker,
                &toolchains,
                &HandlerSource {
                    name: &new.name,
                    description: &new.description,
                    language: new.language,
                    label: &label,
                    code: &new.code,
                },
                now_ms(),
            )
            .map_err(create_error)?;
            tracing::info!(handler = %new.name, sha256 = %created.sha256, "handler created over HTTP");
            current(conn.store(), &new.name)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(version)))
}

/// Read a create request by its content type.
fn new_handler(headers: &HeaderMap, params: Value, body: &[u8]) -> Result<NewHandler, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    match content_type {
        WASM => {
            let params: UploadParams = serde_json::from_value(params)
                .map_err(|error| ApiError::invalid(format!("the query: {error}")))?;
            if !body.starts_with(b"\0asm") {
                return Err(ApiError::invalid(
                    "the body is not WebAssembly (it does not start with \\0asm); send the \
                     component's bytes",
                ));
            }
            Ok(NewHandler {
                name: params.name,
                description: params.description,
                language: Language::Wasm,
                code: body.to_vec(),
            })
        }
        "application/json" => {
            if params.as_object().is_some_and(|query| !query.is_empty()) {
                return Err(ApiError::invalid(
                    "a handler from source takes no query parameters; put them in the body",
                ));
            }
            let body: SourceBody = serde_json::from_slice(body)
                .map_err(|error| ApiError::invalid(format!("the handler: {error}")))?;
            let language = match body.language.as_str() {
                "rust" => Language::Rust,
                "python" => Language::Python,
                "js" => Language::Js,
                "wasm" => {
                    return Err(ApiError::invalid(format!(
                        "a component is sent as the body, with Content-Type: {WASM}"
                    )));
                }
                other => {
                    return Err(ApiError::invalid(format!(
                        "unknown language '{other}': expected rust, python or js"
                    )));
                }
            };
            Ok(NewHandler {
                name: body.name,
                description: body.description,
                language,
                code: body.source.into_bytes(),
            })
        }
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type '{other}': send {WASM} (a component) or application/json (source)"
            ),
        )),
    }
}

/// The file extension compiler messages name the source by.
fn extension(language: Language) -> &'static str {
    match language {
        Language::Rust => "rs",
        Language::Python => "py",
        Language::Js => "js",
        Language::Wasm => "wasm",
    }
}

/// A checker sharing the node's compile cache.
fn checker(node: &NodeContext) -> Result<Checker, ApiError> {
    Checker::new(node.cache_dir.clone()).map_err(|error| ApiError::internal(&error))
}

fn create_error(error: CreateError) -> ApiError {
    match error {
        CreateError::Handler(error) => error.into(),
        CreateError::Build(error) => build_error(error),
        CreateError::Record { source, .. } => source.into(),
    }
}

/// A build that failed: the compiler's messages for bad source, 503 for a missing toolchain.
fn build_error(error: toolchain::Error) -> ApiError {
    match error {
        toolchain::Error::HandlerCompile { .. } => ApiError::invalid(error.to_string()),
        toolchain::Error::Missing { .. } | toolchain::Error::Install { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "toolchain",
            error.to_string(),
        ),
        error => ApiError::internal(&error),
    }
}

impl From<handlers::Error> for ApiError {
    fn from(error: handlers::Error) -> Self {
        use handlers::Error;
        match error {
            Error::InvalidName(_) | Error::AmbiguousVersion { .. } => {
                Self::invalid(error.to_string())
            }
            Error::Refused { .. } | Error::Announces { .. } => Self::invalid(error_chain(&error)),
            Error::NotFound(_) | Error::UnknownVersion { .. } => Self::not_found(error.to_string()),
            Error::Removed(_) | Error::NoEarlierVersion(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            Error::Ats(error) => error.into(),
            Error::Storage(error) => error.into(),
            Error::MissingComponent { .. }
            | Error::Corrupt { .. }
            | Error::BadAttestation { .. } => Self::internal(&error),
        }
    }
}

/// The current version of `name` as JSON; 404 when it was never created or was removed.
fn current(store: &dyn qntx_core::storage::Store, name: &str) -> Result<Value, ApiError> {
    handlers::check_name(name)?;
    match handlers::current(store, name)? {
        Some(version) => Ok(handlers::summary(&version)),
        None if handlers::history(store, name)?.is_empty() => {
            Err(handlers::Error::NotFound(name.to_owned()).into())
        }
        None => Err(ApiError::not_found(
            handlers::Error::Removed(name.to_owned()).to_string(),
        )),
    }
}

/// `GET /api/v1/handlers` (scope `read`): the current handlers, as `qntx handler list --json`.
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let handlers = state
        .store(|conn| {
            Ok(handlers::newest_of_all(conn.store())?
                .into_values()
                .filter_map(|event| match event {
                    Event::Version(version) => Some(handlers::summary(&version)),
                    Event::Removed { .. } => None,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(json!({ "handlers": handlers })))
}

/// `GET /api/v1/handlers/{name}` (scope `read`): the current version, as `qntx handler show
/// NAME --json`; 404 for a removed handler (its history still lists it).
pub(super) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let version = state
        .store(move |conn| current(conn.store(), &name))
        .await?;
    Ok(Json(version))
}

/// `GET /api/v1/handlers/{name}/versions` (scope `read`): every version, rollback and removal,
/// newest first, as `qntx handler show NAME --versions --json`.
pub(super) async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Read)?;
    let versions = state
        .store(move |conn| {
            handlers::check_name(&name)?;
            let history = handlers::history(conn.store(), &name)?;
            if history.is_empty() {
                return Err(handlers::Error::NotFound(name).into());
            }
            Ok(history.iter().map(handlers::event_json).collect::<Vec<_>>())
        })
        .await?;
    Ok(Json(json!({ "versions": versions })))
}

/// `GET /api/v1/handlers/{name}/source` (scope `read`): the current version's source text
/// (empty for a component uploaded as such), as `qntx handler show NAME --source`.
pub(super) async fn source(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<String, ApiError> {
    caller.require(Scope::Read)?;
    state
        .store(move |conn| {
            handlers::check_name(&name)?;
            match handlers::current(conn.store(), &name)? {
                Some(version) => Ok(version.source),
                None => Err(handlers::Error::NotFound(name).into()),
            }
        })
        .await
}

/// The optional body of `POST /api/v1/handlers/{name}/rollback`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RollbackBody {
    to: Option<String>,
}

/// `POST /api/v1/handlers/{name}/rollback` (scope `admin`): make the version `to` names (a
/// sha256 or a unique prefix; default: the one before the current) current again; the
/// version now current.
pub(super) async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Admin)?;
    let body: RollbackBody = if body.iter().all(u8::is_ascii_whitespace) {
        RollbackBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::invalid(format!("the rollback body: {error}")))?
    };
    let version = state
        .store(move |conn| {
            handlers::roll_back(conn.store(), &name, body.to.as_deref(), now_ms())?;
            current(conn.store(), &name)
        })
        .await?;
    Ok(Json(version))
}

/// `DELETE /api/v1/handlers/{name}` (scope `admin`): retire the handler, as `qntx handler
/// remove`; nodes stop serving it, its history is kept.
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Scope::Admin)?;
    let removed = state
        .store(move |conn| {
            let version = handlers::remove(conn.store(), &name, now_ms())?;
            Ok(json!({
                "handler": handlers::registered_name(&name),
                "name": name,
                "removed": version.sha256,
            }))
        })
        .await?;
    Ok(Json(removed))
}
