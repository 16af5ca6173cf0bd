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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pulse::{NewJob, store};
    use crate::sqlite::SqliteBackend;
    use crate::storage::Backend;
    use std::sync::Arc;

    #[test]
    fn a_commit_on_another_connection_wakes_the_workers() {
        let backend = SqliteBackend::temporary().unwrap();
        let writer = backend.connect().unwrap();
        let wakeup = Arc::new(Wakeup::default());
        let watcher = {
            let wakeup = wakeup.clone();
            let mut conn = backend.connect().unwrap();
            std::thread::spawn(move || watch(conn.as_mut(), &wakeup, WATCH_INTERVAL))
        };
        // The watcher may not have read the version yet when a commit lands: commit until one
        // is seen.
        let before = wakeup.generation();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while wakeup.generation() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no wakeup after commits"
            );
            store::enqueue(&**writer, &NewJob::new("h/a", serde_json::json!({})), 0).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        let quiet = wakeup.generation();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(wakeup.generation(), quiet, "no wakeup without a commit");
        wakeup.stop();
        watcher.join().unwrap().unwrap();
    }
}
