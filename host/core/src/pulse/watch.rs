//! Wakes a node's idle workers when another connection (another process's `qntx job enqueue`,
//! a scheduler, a retry) commits to the database, so that workers need not run the claim
//! query on a timer. SQLite's `PRAGMA data_version` changes whenever another connection
//! commits; reading it touches no table, so looking every millisecond costs next to nothing.

use std::time::Duration;

use rusqlite::Connection;

use super::{Error, Wakeup};

/// How often the database is looked at: the added latency of a job enqueued elsewhere.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(1);

/// Look at the database every `interval` and wake the workers when it changed, until
/// `wakeup` says stop.
///
/// # Errors
///
/// [`Error::Sqlite`] when the database cannot be read.
pub fn watch(conn: &Connection, wakeup: &Wakeup, interval: Duration) -> Result<(), Error> {
    let mut seen = data_version(conn)?;
    while !wakeup.is_stopping() {
        std::thread::sleep(interval);
        let version = data_version(conn)?;
        if version != seen {
            seen = version;
            wakeup.notify();
        }
    }
    Ok(())
}

fn data_version(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_commit_on_another_connection_wakes_the_workers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.db");
        let writer = crate::sqlite::open(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (x)").unwrap();
        let wakeup = Arc::new(Wakeup::default());
        let watcher = {
            let wakeup = wakeup.clone();
            let conn = crate::sqlite::open(&path).unwrap();
            std::thread::spawn(move || watch(&conn, &wakeup, WATCH_INTERVAL))
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
            writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(20));
        let quiet = wakeup.generation();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(wakeup.generation(), quiet, "no wakeup without a commit");
        wakeup.stop();
        watcher.join().unwrap().unwrap();
    }
}
