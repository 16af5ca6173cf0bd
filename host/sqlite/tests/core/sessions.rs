//! Dashboard sessions ([`qntx_core::sessions`]) on each backend: a session stands for its token
//! until it expires, is closed, or its token is revoked, and a copy of the store holds only
//! hashes.

use qntx_core::sessions::{self, SESSION_LIFETIME_MS};
use qntx_core::tokens::{self, Scope};

use crate::backends::on_each_backend;

on_each_backend! {
    fn a_session_lasts_until_it_expires_is_closed_or_its_token_is_revoked(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        let now = 1_000_000;
        let app = tokens::create(store, "app", Scope::Enqueue, now).unwrap();
        let opened = sessions::open(store, &app.token, now).unwrap();
        assert!(opened.secret.starts_with(sessions::SECRET_PREFIX));
        assert_eq!(opened.expires_at, now + SESSION_LIFETIME_MS);

        let signed_in = sessions::authenticate(store, &opened.secret, now + 1).unwrap();
        assert_eq!(signed_in.map(|token| token.name), Some("app".to_owned()));
        let expired = sessions::authenticate(store, &opened.secret, opened.expires_at).unwrap();
        assert_eq!(expired, None, "a session ends at its expiry");
        assert_eq!(
            sessions::authenticate(store, &app.secret, now + 1).unwrap(),
            None,
            "a token's secret is no session's"
        );
        let forged = format!("{}{}", sessions::SECRET_PREFIX, "0".repeat(64));
        assert_eq!(sessions::authenticate(store, &forged, now + 1).unwrap(), None);

        assert!(sessions::close(store, &opened.secret).unwrap());
        assert!(!sessions::close(store, &opened.secret).unwrap(), "closed once");
        assert_eq!(sessions::authenticate(store, &opened.secret, now + 2).unwrap(), None);

        let again = sessions::open(store, &app.token, now + 3).unwrap();
        assert_ne!(again.secret, opened.secret);
        tokens::revoke(store, "app", now + 4).unwrap();
        assert_eq!(
            sessions::authenticate(store, &again.secret, now + 5).unwrap(),
            None,
            "revoking the token ends its sessions"
        );
    }
}

on_each_backend! {
    fn opening_a_session_forgets_the_expired_ones(backend) {
        let conn = backend.connect().unwrap();
        let store = conn.store();
        let app = tokens::create(store, "app", Scope::Read, 0).unwrap();
        sessions::open(store, &app.token, 0).unwrap();
        sessions::open(store, &app.token, 1).unwrap();
        assert_eq!(store.session_delete_expired(SESSION_LIFETIME_MS).unwrap(), 1);
        sessions::open(store, &app.token, 2 * SESSION_LIFETIME_MS).unwrap();
        assert_eq!(
            store.session_delete_expired(2 * SESSION_LIFETIME_MS).unwrap(),
            0,
            "the open at 2 days removed the session of time 1"
        );
    }
}
