UPDATE jobs
SET status = 'queued', max_attempts = attempt + $2, run_at = $3, completed_at = NULL,
    updated_at = $3
WHERE id = $1 AND status = 'failed'
RETURNING id
