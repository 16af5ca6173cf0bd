//! What user handlers keep besides their attestations: component bytes by sha256
//! ([`crate::storage::Components`]), and which handlers the attestation feed says changed.

use sha2::{Digest, Sha256};

use super::{Error, PREDICATE};
use crate::ats::feed::Feed;
use crate::storage::Store;

/// The sha256 of `bytes`, hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Store component bytes under their sha256 (a no-op when present); returns the sha256.
///
/// # Errors
///
/// [`Error::Storage`] when the store fails.
pub fn put_component(store: &dyn Store, bytes: &[u8], now: i64) -> Result<String, Error> {
    let sha = sha256(bytes);
    store.component_put(&sha, bytes, now)?;
    Ok(sha)
}

/// The component bytes stored under `sha256`.
///
/// # Errors
///
/// [`Error::Storage`] when the store fails.
pub fn component(store: &dyn Store, sha256: &str) -> Result<Option<Vec<u8>>, Error> {
    Ok(store.component_get(sha256)?)
}

/// The subjects of handler attestations that `feed` has not returned yet, each once, in the
/// order they were stored; reads the feed to its end.
///
/// # Errors
///
/// [`Error::Ats`] when the store fails; the feed stays after the last batch read.
pub fn changed(store: &dyn Store, feed: &mut Feed) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    loop {
        let batch = feed.poll(store)?;
        if batch.is_empty() {
            return Ok(names);
        }
        for attestation in batch {
            if !attestation
                .predicates
                .iter()
                .any(|p| p.eq_ignore_ascii_case(PREDICATE))
            {
                continue;
            }
            for subject in attestation.subjects {
                if !names.contains(&subject) {
                    names.push(subject);
                }
            }
        }
    }
}
