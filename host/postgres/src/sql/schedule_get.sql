SELECT id, owner, handler, payload, interval_ms, enabled, next_run_at, last_job_id
FROM schedules
WHERE id = $1
