//! End-to-end tests: real components built from this repository's sources, a real node, a real
//! database file. Guests are built once per test run (see `fixtures`). The same modules, less
//! the SQLite-only ones, run on PostgreSQL as the target `e2e-postgres` (`postgres/main.rs`).

/// This target's backend: SQLite, the file `qntx.db` of each test's data directory.
pub type Connection = qntx::sqlite::SqliteConnection;

mod announcements;
mod api;
mod api_admin;
mod ats;
mod authors;
mod bench_suite;
mod browser;
mod cache;
mod cli;
mod cooperation;
mod dashboard;
mod database;
mod db;
mod failures;
mod fixtures;
mod grants;
mod handlers;
mod hostile;
mod identity;
mod job_list;
mod loading;
mod processes;
mod pulse_cli;
mod pulse_node;
mod pulse_services;
mod pulse_store;
mod queue_cli;
// SQLite itself: damaged rows, locks, read-only files and full disks, its scratch stores.
mod queue_faults;
mod queue_hostile;
mod sandbox;
mod sessions;
mod sqlite_bench;
mod streams;
mod text_plugin;
mod timestamps;
mod triggers;
