WITH RECURSIVE tree (id) AS (
    SELECT ?1
    UNION
    SELECT jobs.id FROM jobs JOIN tree ON jobs.parent_job_id = tree.id
)
UPDATE jobs
SET status = 'cancelled', pause_reason = NULL, lease_owner = NULL, lease_expires_at = NULL,
    error = 'cancelled', completed_at = ?2, updated_at = ?2
WHERE id IN (SELECT id FROM tree) AND status IN ('queued', 'running', 'paused')
RETURNING id
