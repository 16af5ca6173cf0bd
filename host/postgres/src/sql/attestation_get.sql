SELECT seq, id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at
FROM attestations
WHERE id = $1
