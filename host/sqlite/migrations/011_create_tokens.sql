-- API tokens (`qntx token create`): the sha256 of each secret, never the secret, so that a copy
-- of the database grants nothing. A revoked token stays listed; its name may be reused.
CREATE TABLE tokens (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    scope         TEXT    NOT NULL CHECK (scope IN ('read', 'enqueue', 'admin')),
    -- token_by_hash: every authenticated request.
    hash          TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

-- One unrevoked token per name: token_insert's conflict and token_revoke's lookup.
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
