SELECT
    COUNT(*) FILTER (WHERE status = 'queued' AND run_at <= ?2),
    COUNT(*) FILTER (WHERE status = 'running'),
    MIN(run_at) FILTER (WHERE status = 'queued' AND run_at > ?2)
FROM jobs
WHERE status IN ('queued', 'running') AND handler IN (SELECT value FROM json_each(?1))
