SELECT id FROM jobs
WHERE handler = ?1 AND source = ?2 AND status IN ('queued', 'running', 'paused')
ORDER BY created_at
LIMIT 1
