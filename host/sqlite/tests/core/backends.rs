//! The backends the core's tests run on: `on_each_backend!` turns a test taking an
//! `Arc<dyn Backend>` into one test per backend, so that both run the same assertions.

use std::sync::Arc;

use qntx_core::storage::Backend;

/// A temporary SQLite database.
pub fn sqlite() -> Arc<dyn Backend> {
    Arc::new(qntx_sqlite::SqliteBackend::temporary().unwrap())
}

/// A fresh database on the PostgreSQL server the tests start.
pub fn postgres() -> Arc<dyn Backend> {
    let url = qntx_pgtest::shared().database();
    Arc::new(qntx_postgres::PostgresBackend::open(&url, qntx_postgres::Options::default()).unwrap())
}

/// `on_each_backend!(fn name(backend) { ... })`: the test `name::sqlite` and `name::postgres`.
macro_rules! on_each_backend {
    ($(#[$meta:meta])* fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($backend: std::sync::Arc<dyn qntx_core::storage::Backend>) $body

            #[test]
            fn sqlite() {
                run($crate::backends::sqlite());
            }

            #[test]
            fn postgres() {
                run($crate::backends::postgres());
            }
        }
    };
}
pub(crate) use on_each_backend;
