SELECT EXISTS (
    SELECT 1 FROM watchers
    WHERE cursor_seq < (SELECT COALESCE(MAX(seq), 0) FROM attestations)
)
