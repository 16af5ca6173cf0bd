SELECT seq, id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at
FROM attestations
WHERE seq > ?1
ORDER BY seq
LIMIT ?2
