-- Walks schedules_due, earliest first.
SELECT id, owner, handler, payload, interval_ms, enabled, next_run_at, last_job_id
FROM schedules
WHERE enabled AND next_run_at <= $1
ORDER BY next_run_at
LIMIT $2
