//! End-to-end tests: real components built from this repository's sources, a real node, a real
//! database file. Guests are built once per test run (see `fixtures`).

mod ats;
mod cli;
mod failures;
mod fixtures;
mod loading;
mod text_plugin;
