-- The columns in the order `jobs::from_row` reads them. `jobs/list.rs` appends the
-- conditions of a query, the order (newest first) and the page's size.
SELECT id, handler, payload, source, status, pause_reason, priority, attempt, claims,
       max_attempts, run_at, timeout_ms, progress_current, progress_total, cost_estimate,
       cost_actual, result, error, error_details, parent_job_id, plugin_version, created_at,
       started_at, completed_at, updated_at, root_job_id, depth, attempt_nodes
FROM jobs
