-- Compare-and-set on the next run time the firer read: of two nodes firing at once, the
-- second waits for the first's row lock, finds next_run_at moved, and changes nothing.
UPDATE schedules SET next_run_at = $3, last_job_id = $4, updated_at = $5
WHERE id = $1 AND next_run_at = $2 AND enabled
