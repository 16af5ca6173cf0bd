//! Wakes a node's idle workers when another connection (another process's `qntx job enqueue`,
//! a scheduler, a retry) commits to the store, so that workers need not run the claim query on
//! a timer. The backend tells when a commit happened ([`Connection::wait_for_change`]).

use std::time::Duration;

use super::{Error, Wakeup};
use crate::storage::Connection;

/// Longest one wait for a change lasts before looking whether `wakeup` says stop.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(20);

/// Wake the workers whenever the store changed, until `wakeup` says stop.
///
/// # Errors
///
/// [`Error::Storage`] when the store cannot be read.
pub fn watch(conn: &mut dyn Connection, wakeup: &Wakeup, interval: Duration) -> Result<(), Error> {
    while !wakeup.is_stopping() {
        if conn.wait_for_change(interval)? {
            wakeup.notify();
        }
    }
    Ok(())
}
