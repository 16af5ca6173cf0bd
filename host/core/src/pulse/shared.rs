//! A connection shared by the threads of a node (its workers, plugin loading), until each of
//! them takes its connections from the storage seam.

use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;

/// A connection several threads write through, one at a time.
pub type SharedConnection = Arc<Mutex<Connection>>;

/// Lock a shared connection; a panic elsewhere cannot leave a connection half-used.
pub fn lock(conn: &SharedConnection) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|e| e.into_inner())
}
