UPDATE jobs
SET status = 'queued', attempt = attempt - 1, lease_owner = NULL, lease_expires_at = NULL,
    updated_at = $4
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND status = 'running' AND claims = $5
