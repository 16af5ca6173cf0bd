//! The HTTP front end of a node: a JSON API under `/api/v1`, and the web dashboard at `/`.
//!
//! Every request but the health check carries a bearer token (`qntx token create`), or the
//! cookie of a dashboard session signed in with one; the token's
//! [`Scope`](qntx_core::tokens::Scope) decides what it may do. Handlers apply the same
//! rules as the CLI by calling the same library functions (`pulse::store`, `handlers`), on a
//! pool of store connections, from blocking tasks: the store's calls are synchronous.
//!
//! ```text
//! request → auth (token → scope) → handler → spawn_blocking(pool → store) → JSON
//! ```

#![warn(missing_docs)]

mod api;
mod auth;
mod config;
mod dashboard;
mod error;
mod hub;
mod server;
mod state;

pub use config::{DEFAULT_ADDR, HttpConfig};
pub use error::ApiError;
pub use server::{Server, StartError};
pub use state::{NodeContext, SettingsFile};
