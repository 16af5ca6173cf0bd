//! Making a checked component the current version of a user handler: the one write of
//! `handler create`, which every front end shares.

use super::{Checked, Error, NewVersion, record_version, store};
use crate::storage::Connection;

/// A new version of user handler `name`, checked by [`super::check`].
#[derive(Debug, Clone, Copy)]
pub struct Install<'a> {
    /// The handler's name (`handler/NAME`'s NAME).
    pub name: &'a str,
    /// The component's bytes.
    pub bytes: &'a [u8],
    /// What checking the bytes found.
    pub checked: &'a Checked,
    /// The language it was written in (`rust`, `python`, `js`, `wasm`).
    pub language: &'a str,
    /// Its source text (empty for a component given as such).
    pub source: &'a str,
    /// What it does, in a line.
    pub description: &'a str,
}

/// Store the component and record it as the handler's current version, in one transaction:
/// a handler never has a version whose component is missing. Returns the component's sha256.
///
/// # Errors
///
/// [`Error::Storage`] when the store fails; nothing is kept then.
pub fn install(conn: &mut dyn Connection, new: &Install<'_>, now: i64) -> Result<String, Error> {
    let tx = conn.transaction()?;
    let sha256 = store::put_component(tx.store(), new.bytes, now)?;
    debug_assert_eq!(sha256, new.checked.sha256);
    record_version(
        tx.store(),
        &NewVersion {
            name: new.name,
            sha256: &sha256,
            size: new.bytes.len() as u64,
            language: new.language,
            source: new.source,
            wit_version: &crate::plugins::world_built_for(
                new.checked.plugin.imports.iter().map(String::as_str),
            ),
            description: new.description,
            rolled_back_from: None,
        },
        now,
    )?;
    tx.commit()?;
    Ok(sha256)
}
