INSERT INTO attestations
    (id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (id) DO NOTHING
RETURNING seq
