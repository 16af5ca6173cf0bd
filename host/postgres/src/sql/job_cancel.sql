-- The job and every job below it (through jobs_by_parent), then those of them not finished.
-- A row another transaction is changing is waited for and checked again, so a completion
-- that commits first is never overwritten.
WITH RECURSIVE tree (id) AS (
    SELECT $1::text COLLATE "C"
    UNION
    SELECT jobs.id FROM jobs JOIN tree ON jobs.parent_job_id = tree.id
)
UPDATE jobs
SET status = 'cancelled', pause_reason = NULL, lease_owner = NULL, lease_expires_at = NULL,
    error = 'cancelled', completed_at = $2, updated_at = $2
WHERE id IN (SELECT id FROM tree) AND status IN ('queued', 'running', 'paused')
RETURNING id
