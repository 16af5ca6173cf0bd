//! The end-to-end suite on PostgreSQL: every backend-neutral module of `tests/e2e`, each test
//! on a fresh database of the server the tests start (`qntx_pgtest::shared()`), and the tests
//! of several `qntx run` processes on one database (`nodes`) and of bad URLs and the server
//! failing (`server`).
//!
//! Left out, as being about SQLite itself: `queue_faults` (locks, read-only files, full disks)
//! and `sqlite_bench` (`qntx bench ats`'s scratch files); `bench_suite` runs once, in `e2e`.

/// This target's backend: a PostgreSQL database per test.
pub type Connection = qntx_postgres::PostgresConnection;

#[path = "../announcements.rs"]
mod announcements;
#[path = "../api.rs"]
mod api;
#[path = "../api_admin.rs"]
mod api_admin;
#[path = "../ats.rs"]
mod ats;
#[path = "../authors.rs"]
mod authors;
#[path = "../cache.rs"]
mod cache;
#[path = "../cli.rs"]
mod cli;
mod cluster;
#[path = "../cooperation.rs"]
mod cooperation;
#[path = "../database.rs"]
mod database;
mod envs;
#[path = "../failures.rs"]
mod failures;
#[path = "../fixtures.rs"]
mod fixtures;
#[path = "../grants.rs"]
mod grants;
#[path = "../handlers.rs"]
mod handlers;
#[path = "../hostile.rs"]
mod hostile;
#[path = "../identity.rs"]
mod identity;
#[path = "../job_list.rs"]
mod job_list;
#[path = "../loading.rs"]
mod loading;
mod nodes;
#[path = "../processes.rs"]
mod processes;
#[path = "../pulse_cli.rs"]
mod pulse_cli;
#[path = "../pulse_node.rs"]
mod pulse_node;
#[path = "../pulse_services.rs"]
mod pulse_services;
#[path = "../pulse_store.rs"]
mod pulse_store;
#[path = "../queue_cli.rs"]
mod queue_cli;
#[path = "../queue_hostile.rs"]
mod queue_hostile;
#[path = "../sandbox.rs"]
mod sandbox;
mod server;
#[path = "../sessions.rs"]
mod sessions;
#[path = "../streams.rs"]
mod streams;
#[path = "../text_plugin.rs"]
mod text_plugin;
#[path = "../timestamps.rs"]
mod timestamps;
#[path = "../triggers.rs"]
mod triggers;
