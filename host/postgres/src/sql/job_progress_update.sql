UPDATE jobs
SET progress_current = $4, progress_total = $5, cost_actual = $6, updated_at = $7
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND status = 'running' AND claims = $8
