UPDATE jobs
SET status = 'running', attempt = attempt + 1, claims = claims + 1, lease_owner = ?1,
    lease_expires_at = ?2, started_at = ?3, updated_at = ?3
WHERE id IN (
    -- Without statistics the planner prefers jobs_by_status and sorts every queued job.
    SELECT id FROM jobs INDEXED BY jobs_runnable
    WHERE status = 'queued' AND run_at <= ?3
      AND handler IN (SELECT value FROM json_each(?4))
    ORDER BY priority DESC, run_at, rowid
    LIMIT ?5
)
RETURNING rowid AS seq, *
