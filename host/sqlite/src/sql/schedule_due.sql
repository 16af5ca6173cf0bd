SELECT id, owner, handler, payload, interval_ms, enabled, next_run_at, last_job_id
FROM schedules
WHERE enabled = 1 AND next_run_at <= ?1
ORDER BY next_run_at
-- `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
-- statement again at every execution.
LIMIT ?2 + 0