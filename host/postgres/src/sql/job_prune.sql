-- The oldest finished jobs, on jobs_by_completion; jobs with a cost stay while they count in
-- the longest spend window. SKIP LOCKED: two nodes pruning at once take different rows.
WITH doomed AS MATERIALIZED (
    SELECT id FROM jobs
    WHERE completed_at < $1 AND (cost_actual = 0 OR completed_at < $2)
    ORDER BY completed_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
DELETE FROM jobs USING doomed WHERE jobs.id = doomed.id
RETURNING jobs.id
