-- Guarded on the lease ($1 id, $2 attempt, $3 owner, $4 claim).
UPDATE jobs
SET status = 'queued', attempt = attempt - 1, lease_owner = NULL, lease_expires_at = NULL,
    updated_at = $5
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND claims = $4 AND status = 'running'
