-- `updated_at = $3`: as the SQLite statement writes it.
UPDATE schedules SET enabled = $2, next_run_at = CASE WHEN $2 THEN $3 ELSE next_run_at END,
    updated_at = $3
WHERE id = $1
