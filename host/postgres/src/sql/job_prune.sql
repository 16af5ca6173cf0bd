-- The oldest finished jobs, on jobs_by_completion; jobs with a cost stay while they count in
-- the longest spend window. SKIP LOCKED: two nodes pruning at once take different rows. The
-- ids as an array, so that the primary key finds each (see job_claim.sql).
WITH doomed AS MATERIALIZED (
    SELECT id FROM jobs
    WHERE completed_at < $1 AND (cost_actual = 0 OR completed_at < $2)
    ORDER BY completed_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
DELETE FROM jobs WHERE id = ANY(ARRAY(SELECT id FROM doomed))
RETURNING id
