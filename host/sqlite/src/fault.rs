//! Database faults in words an operator can act on: the file, SQLite's error by name, and the
//! operating system's error behind it ("disk I/O error: Error code 778" names none of them).

use std::error::Error as StdError;

use rusqlite::Connection;

/// `database '<path>': <SQLite's message> (<extended code name>; os error N: <text>)` for the
/// first SQLite error in `error`'s chain, or the chain itself when it holds none. Call it on the
/// connection that failed, before it fails again: the OS error is the one of its latest fault.
pub fn describe_error(conn: &Connection, error: &(dyn StdError + 'static)) -> String {
    let chain = crate::error_chain(error);
    let Some(sqlite) = sqlite_cause(error) else {
        return chain;
    };
    let path = conn.path().filter(|p| !p.is_empty()).unwrap_or(":memory:");
    let mut facts = Vec::new();
    if let Some(code) = sqlite.sqlite_error() {
        facts.push(code_name(code.extended_code));
    }
    if let Some(os) = os_error(conn).filter(|_| is_io(sqlite)) {
        facts.push(os.to_string());
    } else if let Some(denied) = write_denied(sqlite, path) {
        facts.push(format!("the file cannot be opened for writing: {denied}"));
    }
    format!("database '{path}': {chain} ({})", facts.join("; "))
}

/// The first `rusqlite::Error` in a chain, also as the cause a [`storage::Error`] keeps (which
/// shows its cause's message and so does not list it as its source).
pub fn sqlite_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rusqlite::Error> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(sqlite) = error.downcast_ref::<rusqlite::Error>() {
            return Some(sqlite);
        }
        // A storage error shows its cause's message and sources, not the cause itself.
        if let Some(crate::storage::Error::Backend(cause) | crate::storage::Error::Refused(cause)) =
            error.downcast_ref::<crate::storage::Error>()
            && let Some(sqlite) = cause.downcast_ref::<rusqlite::Error>()
        {
            return Some(sqlite);
        }
        cause = error.source();
    }
    None
}

/// Whether SQLite failed to reach the file (as opposed to refusing a statement).
fn is_io(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{
        CannotOpen, DatabaseBusy, DatabaseLocked, DiskFull, ReadOnly, SystemIoFailure,
    };
    matches!(
        error.sqlite_error_code(),
        Some(SystemIoFailure | DiskFull | ReadOnly | CannotOpen | DatabaseBusy | DatabaseLocked)
    )
}

/// Why the OS refuses to open `path` for writing, for a write SQLite refused as read-only: a
/// file SQLite could only open read-only records no error of its own. Opening for writing
/// neither creates nor changes the file.
fn write_denied(error: &rusqlite::Error, path: &str) -> Option<std::io::Error> {
    if error.sqlite_error_code() != Some(rusqlite::ErrorCode::ReadOnly) || path == ":memory:" {
        return None;
    }
    std::fs::OpenOptions::new().write(true).open(path).err()
}

/// The OS error behind the connection's latest I/O fault, if SQLite recorded one.
fn os_error(conn: &Connection) -> Option<std::io::Error> {
    #[expect(
        unsafe_code,
        reason = "sqlite3_system_errno only reads the connection's last errno; the handle is \
                  live for the borrow of `conn`"
    )]
    // SAFETY: `conn` is open for the whole call, and SQLite's API allows this call on it.
    let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(conn.handle()) };
    (errno != 0).then(|| std::io::Error::from_raw_os_error(errno))
}

/// SQLite's name of an extended result code, e.g. `SQLITE_IOERR_WRITE` for 778.
fn code_name(code: i32) -> String {
    let name = match code {
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        8 => "SQLITE_READONLY",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        19 => "SQLITE_CONSTRAINT",
        266 => "SQLITE_IOERR_READ",
        522 => "SQLITE_IOERR_SHORT_READ",
        778 => "SQLITE_IOERR_WRITE",
        1034 => "SQLITE_IOERR_FSYNC",
        1290 => "SQLITE_IOERR_DIR_FSYNC",
        1546 => "SQLITE_IOERR_TRUNCATE",
        1802 => "SQLITE_IOERR_FSTAT",
        2570 => "SQLITE_IOERR_ACCESS",
        3082 => "SQLITE_IOERR_LOCK",
        4874 => "SQLITE_IOERR_SHMOPEN",
        5130 => "SQLITE_IOERR_SHMSIZE",
        5386 => "SQLITE_IOERR_SHMLOCK",
        5642 => "SQLITE_IOERR_SHMMAP",
        6410 => "SQLITE_IOERR_GETTEMPPATH",
        517 => "SQLITE_BUSY_SNAPSHOT",
        261 => "SQLITE_BUSY_RECOVERY",
        264 => "SQLITE_READONLY_RECOVERY",
        520 => "SQLITE_READONLY_CANTLOCK",
        776 => "SQLITE_READONLY_ROLLBACK",
        1032 => "SQLITE_READONLY_DBMOVED",
        1288 => "SQLITE_READONLY_CANTINIT",
        1544 => "SQLITE_READONLY_DIRECTORY",
        275 => "SQLITE_CONSTRAINT_CHECK",
        1299 => "SQLITE_CONSTRAINT_NOTNULL",
        1811 => "SQLITE_CONSTRAINT_TRIGGER",
        2067 => "SQLITE_CONSTRAINT_UNIQUE",
        _ => return format!("SQLite code {code}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_to_a_read_only_file_names_the_path_and_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE t (x)").unwrap();
        }
        let conn =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let error = conn.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        let text = describe_error(&conn, &error);
        assert!(
            text.starts_with(&format!("database '{}': ", path.display())),
            "{text}"
        );
        assert!(text.contains("SQLITE_READONLY"), "{text}");
        assert_eq!(code_name(778), "SQLITE_IOERR_WRITE");
    }
}
