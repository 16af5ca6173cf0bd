-- Component bytes of user handlers, content-addressed, so that every node sharing the database
-- can load them. The handler attestations (predicate `handler`) point here by sha256. Rows are
-- never deleted: the history of a handler stays loadable (rollback).
CREATE TABLE components (
    sha256      TEXT    PRIMARY KEY CHECK (length(sha256) = 64),
    bytes       BLOB    NOT NULL,
    size        INTEGER NOT NULL CHECK (size = length(bytes)),
    created_at  INTEGER NOT NULL
);
