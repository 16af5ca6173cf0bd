//! Watching the write-ahead log: a WAL that keeps growing means checkpoints fail (a reader that
//! never ends its snapshot, an I/O error), and the operator must hear of it before the disk fills.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// Checkpoints the database now and then and reports a WAL that grows past a threshold.
#[derive(Debug)]
pub struct WalWatch {
    wal: PathBuf,
    threshold: u64,
    /// The WAL's size at the last report.
    reported: u64,
}

impl WalWatch {
    /// The default threshold: 64 MiB (SQLite checkpoints at about 4 MiB when it can).
    pub const THRESHOLD: u64 = 64 << 20;

    /// A watch on the WAL of the database file `db`, reporting past `threshold` bytes.
    pub fn new(db: &Path, threshold: u64) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal: PathBuf::from(wal),
            threshold,
            reported: 0,
        }
    }

    /// Run a passive checkpoint on `conn`; when the WAL is past the threshold and larger than
    /// at the last report, say so and why the checkpoint could not reset it.
    pub fn check(&mut self, conn: &Connection) -> Option<String> {
        let checkpoint = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        let size = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if size <= self.threshold || size <= self.reported {
            return None;
        }
        self.reported = size;
        let why = match checkpoint {
            Ok((frames, done)) => format!(
                "the last checkpoint copied {done} of {frames} frames; a reader holding an old \
                 snapshot (a long transaction in any process) keeps the log from restarting"
            ),
            Err(error) => format!(
                "the checkpoint failed: {}",
                super::describe_error(conn, &error)
            ),
        };
        Some(format!(
            "write-ahead log '{}' is {} MiB and growing (threshold {} MiB): {why}",
            self.wal.display(),
            size >> 20,
            self.threshold >> 20
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_that_a_reader_keeps_from_restarting_is_reported_once_per_growth() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let writer = super::super::open(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let reader = super::super::open(&path).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM t;")
            .unwrap();
        let mut watch = WalWatch::new(&path, 1 << 20);
        let write = |n: usize| {
            for _ in 0..n {
                writer
                    .execute("INSERT INTO t VALUES (zeroblob(65536))", [])
                    .unwrap();
            }
        };
        write(40);
        let report = watch
            .check(&writer)
            .expect("a 2.5 MiB log past a 1 MiB threshold");
        assert!(
            report.contains("w.db-wal") && report.contains("reader"),
            "{report}"
        );
        assert_eq!(watch.check(&writer), None, "not again until it grows");
        write(20);
        assert!(watch.check(&writer).is_some(), "reported again as it grows");
        reader.execute_batch("COMMIT").unwrap();
    }
}
