//! Statements on API tokens: only their hashes are stored, never the secrets.

use super::Result;
use crate::tokens::Token;

/// Statements on tokens.
pub trait Tokens {
    /// Store a new token under `hash`, the sha256 of its secret; false (nothing stored) when
    /// an unrevoked token already has its name.
    fn token_insert(&self, token: &Token, hash: &str) -> Result<bool>;

    /// Every token, revoked ones included, oldest first.
    fn token_list(&self) -> Result<Vec<Token>>;

    /// The token whose secret hashes to `hash`, revoked or not.
    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>>;

    /// The token with this id, revoked or not.
    fn token_get(&self, id: &str) -> Result<Option<Token>>;

    /// Revoke the unrevoked token named `name` at `now`; the token as revoked, or `None`
    /// when no unrevoked token has that name.
    fn token_revoke(&self, name: &str, now: i64) -> Result<Option<Token>>;

    /// Record that token `id` was used at `now`, when its last recorded use is older than
    /// `every` milliseconds (so that reads do not write on every request).
    fn token_touch(&self, id: &str, now: i64, every: i64) -> Result<()>;
}
