DELETE FROM jobs
WHERE id IN (
    SELECT id FROM jobs
    WHERE completed_at < ?1 AND (cost_actual = 0 OR completed_at < ?2)
    ORDER BY completed_at
    -- `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
    -- statement again at every execution.
    LIMIT ?3 + 0
)
RETURNING id
