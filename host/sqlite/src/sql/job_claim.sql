UPDATE jobs
SET status = 'running', attempt = attempt + 1, claims = claims + 1, lease_owner = ?1,
    lease_expires_at = ?2, started_at = ?3, updated_at = ?3,
    attempt_nodes = json_insert(attempt_nodes, '$[#]', json_object('attempt', attempt + 1, 'node', ?1))
WHERE id IN (
    -- Without statistics the planner may prefer another index and sort every queued job.
    SELECT id FROM jobs INDEXED BY jobs_runnable
    WHERE status = 'queued' AND run_at <= ?3
      AND handler IN (SELECT value FROM json_each(?4))
    ORDER BY priority DESC, run_at, rowid
    -- `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
    -- statement again at every execution.
    LIMIT ?5 + 0
)
-- The columns in the order `store::from_row` reads them, then the enqueue order.
RETURNING id, handler, payload, source, status, pause_reason, priority, attempt, claims,
          max_attempts, run_at, timeout_ms, progress_current, progress_total, cost_estimate,
          cost_actual, result, error, error_details, parent_job_id, plugin_version, created_at,
          started_at, completed_at, updated_at, root_job_id, depth, attempt_nodes, rowid AS seq
