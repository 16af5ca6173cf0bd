-- Guarded on the lease ($1 id, $2 attempt, $3 owner, $4 claim); $5.. the attempt's report.
UPDATE jobs
SET status = 'completed', progress_current = $5, progress_total = $6, cost_actual = $7,
    plugin_version = $8, completed_at = $9, updated_at = $9, result = $10, error = NULL,
    error_details = NULL, lease_owner = NULL, lease_expires_at = NULL
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND claims = $4 AND status = 'running'
