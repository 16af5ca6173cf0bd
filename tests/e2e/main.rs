//! End-to-end tests: real components built from this repository's sources, a real node, a real
//! database file. Guests are built once per test run (see `fixtures`).

mod announcements;
mod ats;
mod authors;
mod bench_suite;
mod cache;
mod cli;
mod cooperation;
mod db;
mod failures;
mod fixtures;
mod grants;
mod handlers;
mod hostile;
mod identity;
mod loading;
mod pulse_cli;
mod pulse_node;
mod pulse_services;
mod pulse_store;
mod queue_cli;
mod queue_faults;
mod queue_hostile;
mod sandbox;
mod text_plugin;
mod timestamps;
mod triggers;
