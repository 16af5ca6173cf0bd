//! Statements on API tokens and the dashboard sessions signed in with them: only hashes are
//! stored, never the secrets.

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

    /// Store a dashboard session under `hash`, the sha256 of its secret, for token `token_id`
    /// until `expires_at`.
    fn session_insert(
        &self,
        hash: &str,
        token_id: &str,
        created_at: i64,
        expires_at: i64,
    ) -> Result<()>;

    /// The token of the session whose secret hashes to `hash`, when the session has not
    /// expired at `now` (the token may be revoked: the caller checks).
    fn session_token(&self, hash: &str, now: i64) -> Result<Option<Token>>;

    /// Forget the session whose secret hashes to `hash` (signing out); false if none.
    fn session_delete(&self, hash: &str) -> Result<bool>;

    /// Forget the sessions expired at `now`; how many.
    fn session_delete_expired(&self, now: i64) -> Result<u64>;
}
