-- Guarded on the lease ($1 id, $2 attempt, $3 owner, $4 claim).
UPDATE jobs
SET progress_current = $5, progress_total = $6, cost_actual = $7, updated_at = $8
WHERE id = $1 AND attempt = $2 AND lease_owner = $3 AND claims = $4 AND status = 'running'
