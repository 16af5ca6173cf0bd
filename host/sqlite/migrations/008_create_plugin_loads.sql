-- What a node found when it last loaded each plugin file, so that `qntx plugin list` and
-- `qntx plugin inspect` describe plugins without running their code. Keyed by the sha256 of the
-- component and of the manifest beside it (empty when there is none): a changed component or
-- manifest has no record until a node loads it, so nothing stale describes it.
CREATE TABLE plugin_loads (
    sha256           TEXT    NOT NULL CHECK (length(sha256) = 64),
    manifest_sha256  TEXT    NOT NULL CHECK (manifest_sha256 = '' OR length(manifest_sha256) = 64),
    path             TEXT    NOT NULL,
    size             INTEGER NOT NULL CHECK (size >= 0),
    -- NULL when the file was refused before it said who it is.
    name             TEXT,
    version          TEXT,
    description      TEXT,
    -- [[own name, description], ...] as announced.
    handlers         TEXT    NOT NULL CHECK (json_valid(handlers)),
    -- What the node changed or ignored in the manifest, one line each.
    notes            TEXT    NOT NULL CHECK (json_valid(notes)),
    -- Why the file was refused; NULL when it loaded.
    refusal          TEXT,
    loaded_at        INTEGER NOT NULL,
    PRIMARY KEY (sha256, manifest_sha256)
);
