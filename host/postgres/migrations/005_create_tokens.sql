-- API tokens (`qntx token create`): the sha256 of each secret, never the secret, so that a copy
-- of the database grants nothing. A revoked token stays listed; its name may be reused. The
-- same table as SQLite's migration 011.
CREATE TABLE tokens (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT   NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    scope         TEXT   NOT NULL CHECK (scope IN ('read', 'enqueue', 'admin')),
    -- tokens_hash_key: token_by_hash, on every authenticated request.
    hash          TEXT   NOT NULL UNIQUE CHECK (length(hash) = 64),
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

-- One unrevoked token per name: token_insert's conflict and token_revoke's lookup.
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;
