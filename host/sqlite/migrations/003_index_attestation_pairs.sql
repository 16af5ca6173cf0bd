-- One row per (predicate, context) combination of each attestation, case-folded, so that the
-- common question "who is author of github" walks one index newest first and stops at its
-- limit, instead of probing the context of every attestation with that predicate. Validation
-- bounds the combinations per attestation (predicates x contexts <= 1,000).
CREATE TABLE attestation_pairs (
    predicate  TEXT    NOT NULL,
    context    TEXT    NOT NULL,
    timestamp  INTEGER NOT NULL,
    seq        INTEGER NOT NULL REFERENCES attestations (seq) ON DELETE CASCADE,
    PRIMARY KEY (predicate, context, timestamp, seq)
) WITHOUT ROWID;

CREATE INDEX attestation_pairs_by_seq ON attestation_pairs (seq);

-- Attestations written before this migration.
INSERT OR IGNORE INTO attestation_pairs (predicate, context, timestamp, seq)
SELECT p.value, c.value, p.timestamp, p.seq
FROM attestation_values p
JOIN attestation_values c ON c.seq = p.seq AND c.dimension = 2
WHERE p.dimension = 1;
