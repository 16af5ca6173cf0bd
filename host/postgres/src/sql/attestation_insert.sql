-- The attestation, its index rows (one per folded dimension value, one per folded
-- (predicate, context) pair) in one statement: all or nothing, one round trip. A taken id
-- inserts nothing and returns no row. The caller holds the feed's lock (attestations/mod.rs).
WITH a AS (
    INSERT INTO attestations
        (id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (id) DO NOTHING
    RETURNING seq, timestamp
), dimension_values AS (
    INSERT INTO attestation_values (dimension, value, timestamp, seq)
    SELECT u.dimension, u.value, a.timestamp, a.seq
    FROM a, unnest($10::smallint[], $11::text[]) AS u (dimension, value)
), pairs AS (
    INSERT INTO attestation_pairs (predicate, context, timestamp, seq)
    SELECT u.predicate, u.context, a.timestamp, a.seq
    FROM a, unnest($12::text[], $13::text[]) AS u (predicate, context)
)
SELECT seq FROM a
