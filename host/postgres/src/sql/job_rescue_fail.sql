-- On jobs_leases.
UPDATE jobs
SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, completed_at = $1,
    updated_at = $1, error = 'lease expired on the last attempt: the node running it stopped'
WHERE status = 'running' AND lease_expires_at < $1 AND attempt >= max_attempts
RETURNING id
