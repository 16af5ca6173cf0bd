UPDATE jobs
SET status = 'queued', pause_reason = NULL, updated_at = $2
WHERE id = $1 AND status = 'paused'
RETURNING id
