-- The columns in the order `jobs::from_row` reads them. Newest first: backwards on the
-- primary key (ULIDs sort by time).
SELECT id, handler, payload, source, status, pause_reason, priority, attempt, claims,
       max_attempts, run_at, timeout_ms, progress_current, progress_total, cost_estimate,
       cost_actual, result, error, error_details, parent_job_id, plugin_version, created_at,
       started_at, completed_at, updated_at, root_job_id, depth, attempt_nodes
FROM jobs
WHERE ($1::text IS NULL OR status = $1::text) AND ($2::text IS NULL OR handler = $2::text)
ORDER BY id DESC
LIMIT $3
