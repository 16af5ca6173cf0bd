-- Dashboard sessions: a browser signs in with a token and keeps a random secret in an HttpOnly
-- cookie; the store keeps the secret's sha256, the token, and when the session ends. Revoking
-- the token ends its sessions (session_token joins the token and its revocation is checked).
-- The same table as SQLite's migration 013.
CREATE TABLE sessions (
    -- sessions_pkey: session_token, on every request of a signed-in browser.
    hash        TEXT COLLATE "C" PRIMARY KEY CHECK (length(hash) = 64),
    token_id    TEXT COLLATE "C" NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- session_delete_expired.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
