-- The feed: sequence order is commit order (attestations/mod.rs), so rows after a cursor
-- never include one that commits later with a smaller seq. Walks attestations_pkey.
SELECT seq, id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at
FROM attestations
WHERE seq > $1
ORDER BY seq
LIMIT $2
