-- Attestations: append-only claims. `seq` orders them by insertion and is the change feed's
-- cursor; `id` is the readable public id.
CREATE TABLE attestations (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    subjects    TEXT    NOT NULL CHECK (json_valid(subjects) AND json_type(subjects) = 'array'),
    predicates  TEXT    NOT NULL CHECK (json_valid(predicates) AND json_type(predicates) = 'array'),
    contexts    TEXT    NOT NULL CHECK (json_valid(contexts) AND json_type(contexts) = 'array'),
    actors      TEXT    NOT NULL CHECK (json_valid(actors) AND json_type(actors) = 'array'),
    timestamp   INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    attributes  TEXT    NOT NULL CHECK (json_valid(attributes) AND json_type(attributes) = 'object'),
    created_at  INTEGER NOT NULL
);

CREATE INDEX attestations_by_time ON attestations (timestamp, seq);
CREATE INDEX attestations_by_source ON attestations (source, timestamp, seq);

-- One row per value of each dimension, case-folded, so that a query on one subject (or one
-- predicate) walks an index newest first and stops at its limit.
-- dimension: 0 subject, 1 predicate, 2 context, 3 actor.
CREATE TABLE attestation_values (
    dimension  INTEGER NOT NULL CHECK (dimension BETWEEN 0 AND 3),
    value      TEXT    NOT NULL,
    timestamp  INTEGER NOT NULL,
    seq        INTEGER NOT NULL REFERENCES attestations (seq) ON DELETE CASCADE,
    PRIMARY KEY (dimension, value, timestamp, seq)
) WITHOUT ROWID;

CREATE INDEX attestation_values_by_seq ON attestation_values (seq);
