UPDATE jobs
SET status = 'paused', pause_reason = $2,
    attempt = attempt - CASE WHEN status = 'running' THEN 1 ELSE 0 END,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = $3
WHERE id = $1 AND status IN ('queued', 'running')
RETURNING id
