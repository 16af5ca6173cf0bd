DELETE FROM jobs
WHERE id IN (
    SELECT id FROM jobs
    WHERE completed_at < ?1 AND (cost_actual = 0 OR completed_at < ?2)
    ORDER BY completed_at
    LIMIT ?3
)
RETURNING id
