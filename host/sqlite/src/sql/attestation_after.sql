SELECT seq, id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at
FROM attestations
WHERE seq > ?1
ORDER BY seq
-- `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
-- statement again at every execution.
LIMIT ?2 + 0