SELECT id FROM jobs
-- Unfinished (queued, running or paused): the partial index jobs_unfinished_by_source.
WHERE handler = $1 AND source = $2 AND completed_at IS NULL
ORDER BY created_at
LIMIT 1
