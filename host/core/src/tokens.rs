//! API tokens: a name, a scope, and a secret shown once at creation. The store keeps the
//! secret's sha256 only, so a copy of the database grants nothing. Secrets are 256 random
//! bits, which is why a fast hash suffices (there is nothing to guess a password from).

use std::fmt;
use std::str::FromStr;

use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::storage::{self, Store};

/// What a token may do; each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read jobs, logs, attestations, handlers, plugins and the node's status.
    Read,
    /// Also enqueue, cancel, pause, resume and retry jobs, and record attestations.
    Enqueue,
    /// Also manage handlers, plugins, schedules, budgets and tokens.
    Admin,
}

impl Scope {
    /// Every scope, weakest first.
    pub const ALL: [Self; 3] = [Self::Read, Self::Enqueue, Self::Admin];

    /// Whether a token of this scope may do what needs `needed`.
    pub fn allows(self, needed: Self) -> bool {
        self >= needed
    }

    /// Its name: `read`, `enqueue` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Enqueue => "enqueue",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| Error::Scope(text.to_owned()))
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// ULID.
    pub id: String,
    /// Unique among unrevoked tokens; says whom or what it is for.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When it was last used, to the minute; `None` if never.
    pub last_used_at: Option<i64>,
    /// When it was revoked; a revoked token authenticates nothing.
    pub revoked_at: Option<i64>,
}

/// A token just created, with the secret that is shown this once.
#[derive(Debug)]
pub struct Created {
    /// The stored token.
    pub token: Token,
    /// `qntx_` and 64 hex digits: what a client sends as `Authorization: Bearer ...`.
    pub secret: String,
}

/// Errors of token commands.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The name is empty, too long or has characters outside `A-Z a-z 0-9 . _ -`.
    #[error("token name '{0}' must be 1 to 64 characters of letters, digits, '.', '_' and '-'")]
    Name(String),
    /// An unrevoked token has the name.
    #[error("a token named '{0}' exists; revoke it first or choose another name")]
    Taken(String),
    /// No unrevoked token has the name.
    #[error("no token named '{0}' (revoked tokens cannot be revoked again)")]
    NotFound(String),
    /// Not a scope's name.
    #[error("unknown scope '{0}': expected read, enqueue or admin")]
    Scope(String),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
}

/// The prefix of every secret, so that a leaked one is recognisable (secret scanners).
pub const SECRET_PREFIX: &str = "qntx_";

/// A token's last use is recorded at most this often (milliseconds).
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// Create a token named `name` with `scope`.
///
/// # Errors
///
/// [`Error::Name`], [`Error::Taken`], or the store's.
pub fn create(store: &dyn Store, name: &str, scope: Scope, now: i64) -> Result<Created, Error> {
    check_name(name)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
    let token = Token {
        id: ulid::Ulid::new().to_string(),
        name: name.to_owned(),
        scope,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    if !store.token_insert(&token, &hash(&secret))? {
        return Err(Error::Taken(name.to_owned()));
    }
    Ok(Created { token, secret })
}

/// Every token, revoked ones included, oldest first.
///
/// # Errors
///
/// The store's.
pub fn list(store: &dyn Store) -> Result<Vec<Token>, Error> {
    Ok(store.token_list()?)
}

/// Revoke the unrevoked token named `name`: requests carrying it fail from now on.
///
/// # Errors
///
/// [`Error::NotFound`], or the store's.
pub fn revoke(store: &dyn Store, name: &str, now: i64) -> Result<Token, Error> {
    store
        .token_revoke(name, now)?
        .ok_or_else(|| Error::NotFound(name.to_owned()))
}

/// The unrevoked token whose secret is `secret`, its use recorded; `None` for an unknown or
/// revoked secret.
///
/// # Errors
///
/// The store's.
pub fn authenticate(store: &dyn Store, secret: &str, now: i64) -> Result<Option<Token>, Error> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    let Some(token) = store.token_by_hash(&hash(secret))? else {
        return Ok(None);
    };
    if token.revoked_at.is_some() {
        return Ok(None);
    }
    store.token_touch(&token.id, now, TOUCH_EVERY_MS)?;
    Ok(Some(token))
}

/// The unrevoked token with id `id` (a session's), or `None`.
///
/// # Errors
///
/// The store's.
pub fn active(store: &dyn Store, id: &str) -> Result<Option<Token>, Error> {
    Ok(store
        .token_get(id)?
        .filter(|token| token.revoked_at.is_none()))
}

fn check_name(name: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) {
        return Err(Error::Name(name.to_owned()));
    }
    Ok(())
}

/// The stored form of a secret: its sha256, in hex.
fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_include_the_weaker_ones() {
        assert!(Scope::Admin.allows(Scope::Enqueue));
        assert!(Scope::Enqueue.allows(Scope::Read));
        assert!(!Scope::Read.allows(Scope::Enqueue));
        assert!(!Scope::Enqueue.allows(Scope::Admin));
        assert_eq!("enqueue".parse::<Scope>().unwrap(), Scope::Enqueue);
        assert!(matches!("root".parse::<Scope>(), Err(Error::Scope(s)) if s == "root"));
    }

    #[test]
    fn names_are_checked() {
        for bad in ["", "a b", "é", &"x".repeat(65), "a/b"] {
            assert!(matches!(check_name(bad), Err(Error::Name(_))), "{bad:?}");
        }
        for good in ["ci", "grafana.scraper", "deploy_bot-2", &"x".repeat(64)] {
            check_name(good).unwrap();
        }
    }

    #[test]
    fn the_stored_hash_is_the_secrets_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
