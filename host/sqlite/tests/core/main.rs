//! The parts of qntx-core that read and write the store, run on the SQLite backend and, where
//! marked `on_each_backend!`, on PostgreSQL too (qntx-core itself depends on no backend).

mod backends;

mod attempt_io;
mod events;
mod feed;
mod listing;
mod sessions;
mod watch;
