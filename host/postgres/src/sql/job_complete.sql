UPDATE jobs
SET status = 'completed', result = $4, progress_current = $5, progress_total = $6,
    cost_actual = $7, plugin_version = $8, error = NULL, error_details = NULL, lease_owner = NULL,
    lease_expires_at = NULL,
    completed_at = $9, updated_at = $9
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND status = 'running' AND claims = $10
