//! The rules of a handler's life that every front end shares: which version a rollback makes
//! current, when a removal is refused, and when a job for `handler/NAME` is.

use std::collections::BTreeSet;

use super::{
    Error, Event, HandlerVersion, NewVersion, PREFIX, check_name, current, history, record_removal,
    record_version,
};
use crate::ats::Attestation;
use crate::storage::Store;

/// A rollback done: the version made current again and the sha256 it replaced.
#[derive(Debug, Clone)]
pub struct RolledBack {
    /// The version made current (as first recorded).
    pub version: HandlerVersion,
    /// The sha256 of the version (or removal) that was newest before.
    pub from: String,
    /// The new version attestation.
    pub attestation: Attestation,
}

/// The version a rollback of `name` makes current, from its `history` (newest first): the one
/// `to` names (a sha256 or a unique prefix of one, any case), else the version before the
/// current one, or the last version of a removed handler.
///
/// # Errors
///
/// [`Error::NotFound`] for an empty history; [`Error::UnknownVersion`] when `to` is empty or
/// matches no version; [`Error::AmbiguousVersion`] when it matches several;
/// [`Error::NoEarlierVersion`] when there is nothing to go back to.
pub fn rollback_target<'a>(
    name: &str,
    history: &'a [Event],
    to: Option<&str>,
) -> Result<&'a HandlerVersion, Error> {
    let Some(newest) = history.first() else {
        return Err(Error::NotFound(name.to_owned()));
    };
    let versions: Vec<&HandlerVersion> = history
        .iter()
        .filter_map(|event| match event {
            Event::Version(version) => Some(version),
            Event::Removed { .. } => None,
        })
        .collect();
    if let Some(prefix) = to {
        let prefix = prefix.to_ascii_lowercase();
        let matches: Vec<&HandlerVersion> = versions
            .iter()
            .copied()
            .filter(|v| v.sha256.starts_with(&prefix))
            .collect();
        let distinct: BTreeSet<&str> = matches.iter().map(|v| v.sha256.as_str()).collect();
        return match (distinct.len(), prefix.is_empty()) {
            (1, false) => Ok(matches[0]),
            (0, _) | (_, true) => Err(Error::UnknownVersion {
                name: name.to_owned(),
                sha: prefix,
            }),
            _ => Err(Error::AmbiguousVersion {
                name: name.to_owned(),
                sha: prefix,
            }),
        };
    }
    let earlier = match newest {
        Event::Removed { .. } => versions.first().copied(),
        Event::Version(current) => versions
            .iter()
            .copied()
            .find(|v| v.sha256 != current.sha256),
    };
    earlier.ok_or_else(|| Error::NoEarlierVersion(name.to_owned()))
}

/// Make an earlier version of handler `name` current again (see [`rollback_target`]), as a new
/// version attestation that names the one it replaces; history is kept.
///
/// # Errors
///
/// [`Error::InvalidName`], the errors of [`rollback_target`], and store failures.
pub fn roll_back(
    conn: &dyn Store,
    name: &str,
    to: Option<&str>,
    now: i64,
) -> Result<RolledBack, Error> {
    check_name(name)?;
    one_at_a_time(conn, name, |conn| roll_back_held(conn, name, to, now))
}

fn roll_back_held(
    conn: &dyn Store,
    name: &str,
    to: Option<&str>,
    now: i64,
) -> Result<RolledBack, Error> {
    let history = history(conn, name)?;
    let target = rollback_target(name, &history, to)?;
    let from = history[0].sha256().to_owned();
    let attestation = record_version(
        conn,
        &NewVersion {
            name,
            sha256: &target.sha256,
            size: target.size,
            language: &target.language,
            source: &target.source,
            wit_version: &target.wit_version,
            description: &target.description,
            rolled_back_from: Some(&from),
        },
        now,
    )?;
    Ok(RolledBack {
        version: target.clone(),
        from,
        attestation,
    })
}

/// Retire handler `name`: nodes stop serving it and jobs for it are refused. Returns the
/// version that was current.
///
/// # Errors
///
/// [`Error::InvalidName`]; [`Error::NotFound`] or [`Error::Removed`] when it has no current
/// version; store failures.
pub fn remove(conn: &dyn Store, name: &str, now: i64) -> Result<HandlerVersion, Error> {
    check_name(name)?;
    one_at_a_time(conn, name, |conn| {
        let Some(version) = current(conn, name)? else {
            return Err(absent(conn, name)?);
        };
        record_removal(conn, name, &version.sha256, now)?;
        Ok(version)
    })
}

/// Run `work`, which reads handler `name`'s history and records what follows from it, in a
/// transaction (or a savepoint of the caller's) holding the handler's key: two rollbacks or
/// removals of one handler run one after the other, so each decides on what the other
/// recorded (on PostgreSQL a transaction does not hold what it read). The key is taken before
/// the attestation is written, which takes the feed's lock.
fn one_at_a_time<T>(
    store: &dyn Store,
    name: &str,
    work: impl FnOnce(&dyn Store) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut work = Some(work);
    let mut outcome = None;
    store.atomically(&mut |tx| {
        let work = work.take().expect("atomically runs its work once");
        let result = tx
            .exclusive(&format!("handler:{name}"))
            .map_err(Error::from)
            .and_then(|()| work(tx));
        let keep = result.is_ok();
        outcome = Some(result);
        keep
    })?;
    outcome.expect("atomically ran its work")
}

/// Whether `handler` is a user handler's name (`handler/NAME`) that may get a job: `Ok(true)`
/// when NAME has a current version, `Ok(false)` for a name without the `handler/` prefix
/// (a plugin's handler, for the caller to check).
///
/// # Errors
///
/// [`Error::InvalidName`]; [`Error::NotFound`] or [`Error::Removed`] when NAME has no current
/// version; store failures.
pub(super) fn user_handler_servable(conn: &dyn Store, handler: &str) -> Result<bool, Error> {
    let Some(name) = handler.strip_prefix(PREFIX) else {
        return Ok(false);
    };
    check_name(name)?;
    if current(conn, name)?.is_none() {
        return Err(absent(conn, name)?);
    }
    Ok(true)
}

/// Why there is no current version: never created, or removed.
fn absent(conn: &dyn Store, name: &str) -> Result<Error, Error> {
    Ok(if history(conn, name)?.is_empty() {
        Error::NotFound(name.to_owned())
    } else {
        Error::Removed(name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(conn: &dyn Store, name: &str, sha256: &str, now: i64) {
        record_version(
            conn,
            &NewVersion {
                name,
                sha256,
                size: 3,
                language: "rust",
                source: "fn handle() {}",
                wit_version: crate::runtime::WORLD,
                description: sha256,
                rolled_back_from: None,
            },
            now,
        )
        .unwrap();
    }

    fn message(error: Error) -> String {
        error.to_string()
    }

    #[test]
    fn a_rollback_goes_to_the_version_before_or_the_one_named_by_a_unique_prefix() {
        let backend = crate::sqlite::SqliteBackend::temporary().unwrap();
        let conn = backend.connection().unwrap();
        assert_eq!(
            message(roll_back(&conn, "h", None, 1).unwrap_err()),
            "no handler 'h'; create it with 'qntx handler create h --file FILE'"
        );
        create(&conn, "h", "aa11", 10);
        assert_eq!(
            message(roll_back(&conn, "h", None, 11).unwrap_err()),
            "handler 'h' has no earlier version to roll back to"
        );
        create(&conn, "h", "ab22", 20);
        create(&conn, "h", "ab22", 30);

        let back = roll_back(&conn, "h", None, 40).unwrap();
        assert_eq!(
            (back.version.sha256.as_str(), back.from.as_str()),
            ("aa11", "ab22")
        );
        let now = current(&conn, "h").unwrap().unwrap();
        assert_eq!(now.sha256, "aa11");
        assert_eq!(now.rolled_back_from.as_deref(), Some("ab22"));
        assert_eq!(
            now.description, "aa11",
            "the version's own record is copied"
        );
        assert_eq!(now.attestation, back.attestation.id);

        // `ab` matches one sha256 twice (two records of ab22): not ambiguous.
        assert_eq!(
            roll_back(&conn, "h", Some("AB"), 50)
                .unwrap()
                .version
                .sha256,
            "ab22"
        );
        assert_eq!(
            message(roll_back(&conn, "h", Some("a"), 60).unwrap_err()),
            "'a' matches several versions of handler 'h'; give more digits"
        );
        for to in ["", "ff"] {
            assert_eq!(
                message(roll_back(&conn, "h", Some(to), 60).unwrap_err()),
                format!(
                    "handler 'h' has no version '{to}'; 'qntx handler show h --versions' lists them"
                )
            );
        }
        assert!(matches!(
            roll_back(&conn, "Bad Name", None, 60),
            Err(Error::InvalidName(_))
        ));
    }

    #[test]
    fn a_removed_handler_refuses_jobs_and_removal_until_a_rollback_brings_it_back() {
        let backend = crate::sqlite::SqliteBackend::temporary().unwrap();
        let conn = backend.connection().unwrap();
        assert!(
            !user_handler_servable(&conn, "text/stats").unwrap(),
            "a plugin's handler"
        );
        assert_eq!(
            message(user_handler_servable(&conn, "handler/h").unwrap_err()),
            "no handler 'h'; create it with 'qntx handler create h --file FILE'"
        );
        assert!(matches!(
            user_handler_servable(&conn, "handler/NO"),
            Err(Error::InvalidName(_))
        ));
        assert!(matches!(remove(&conn, "h", 1), Err(Error::NotFound(_))));
        create(&conn, "h", "aa11", 10);
        assert!(user_handler_servable(&conn, "handler/h").unwrap());

        assert_eq!(remove(&conn, "h", 20).unwrap().sha256, "aa11");
        let removed =
            "handler 'h' was removed; 'qntx handler rollback h' brings back its last version";
        assert_eq!(
            message(user_handler_servable(&conn, "handler/h").unwrap_err()),
            removed
        );
        assert_eq!(message(remove(&conn, "h", 30).unwrap_err()), removed);

        let back = roll_back(&conn, "h", None, 40).unwrap();
        assert_eq!(
            (back.version.sha256.as_str(), back.from.as_str()),
            ("aa11", "aa11")
        );
        assert!(user_handler_servable(&conn, "handler/h").unwrap());
    }
}
