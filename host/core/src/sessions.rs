//! Dashboard sessions: a browser signs in with a token once and then carries a random session
//! secret in an HttpOnly cookie. The store keeps the secret's sha256, the token it stands for
//! and when it ends, so a copy of the database grants nothing, revoking the token ends its
//! sessions at their next request, and signing out forgets the session everywhere.
//!
//! State-changing requests of a session also carry its CSRF token ([`csrf_token`]), derived
//! from the session secret: a page of the node can read it, another site cannot.

use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::storage::Store;
use crate::tokens::{self, Token};

/// How long a session lasts after sign-in (milliseconds): a working day.
pub const SESSION_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// The prefix of every session secret, so that it is never mistaken for a token's.
pub const SECRET_PREFIX: &str = "qntxs_";

/// A session just opened.
#[derive(Debug)]
pub struct Opened {
    /// What the cookie carries: [`SECRET_PREFIX`] and 64 hex digits.
    pub secret: String,
    /// When it ends (Unix milliseconds).
    pub expires_at: i64,
}

/// Open a session for `token` (already authenticated by its secret) at `now`, forgetting
/// sessions that have expired.
///
/// # Errors
///
/// The store's.
pub fn open(store: &dyn Store, token: &Token, now: i64) -> Result<Opened, tokens::Error> {
    store.session_delete_expired(now)?;
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
    let expires_at = now + SESSION_LIFETIME_MS;
    store.session_insert(&hash(&secret), &token.id, now, expires_at)?;
    Ok(Opened { secret, expires_at })
}

/// The unrevoked token of the unexpired session whose secret is `secret`, its use recorded;
/// `None` otherwise.
///
/// # Errors
///
/// The store's.
pub fn authenticate(
    store: &dyn Store,
    secret: &str,
    now: i64,
) -> Result<Option<Token>, tokens::Error> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    let Some(token) = store.session_token(&hash(secret), now)? else {
        return Ok(None);
    };
    if token.revoked_at.is_some() {
        return Ok(None);
    }
    store.token_touch(&token.id, now, tokens::TOUCH_EVERY_MS)?;
    Ok(Some(token))
}

/// Forget the session whose secret is `secret`; false when there was none.
///
/// # Errors
///
/// The store's.
pub fn close(store: &dyn Store, secret: &str) -> Result<bool, tokens::Error> {
    Ok(store.session_delete(&hash(secret))?)
}

/// The CSRF token of the session whose secret is `secret`: what its forms and scripts send
/// back with every state-changing request.
pub fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("qntx-csrf:{secret}").as_bytes()))
}

/// Whether `sent` is the CSRF token of the session `secret`, compared in constant time.
pub fn csrf_matches(secret: &str, sent: &str) -> bool {
    let expected = csrf_token(secret);
    expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0_u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The stored form of a session secret.
fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        let token = csrf_token("qntxs_a");
        assert!(csrf_matches("qntxs_a", &token));
        assert!(!csrf_matches("qntxs_b", &token));
        assert!(!csrf_matches("qntxs_a", &token[1..]));
        assert!(!csrf_matches("qntxs_a", ""));
    }
}
