UPDATE jobs
SET status = 'failed', error = $4, error_details = $5, progress_current = $6, progress_total = $7,
    cost_actual = $8, plugin_version = $9, lease_owner = NULL, lease_expires_at = NULL,
    completed_at = $10, updated_at = $10
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND status = 'running' AND claims = $11
