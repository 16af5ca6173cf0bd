UPDATE jobs
SET status = 'queued', run_at = $4, error = $5, error_details = $6, progress_current = $7,
    progress_total = $8, cost_actual = $9, plugin_version = $10, lease_owner = NULL,
    lease_expires_at = NULL, updated_at = $11
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND status = 'running' AND claims = $12
