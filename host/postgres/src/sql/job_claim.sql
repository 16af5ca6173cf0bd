-- One statement: pick, lock and update, so that two nodes never take the same job.
--
-- `picked` is a fence: materialised, it runs once and locks at most $5 rows, and the UPDATE
-- touches exactly those. Written as `UPDATE ... WHERE id IN (SELECT ... LIMIT $5 FOR UPDATE
-- SKIP LOCKED)` instead, the planner may turn the subquery into a join it scans again (for
-- each outer row, or after rows it locked were skipped), and so lock and update more rows than
-- the limit. SKIP LOCKED passes over jobs another claim holds rather than waiting for it; a
-- row that changed since the snapshot is checked again against the WHERE once locked.
WITH picked AS MATERIALIZED (
    -- Walks jobs_runnable in its order and stops after $5 matches.
    SELECT id FROM jobs
    WHERE status = 'queued' AND run_at <= $3 AND handler = ANY($4)
    ORDER BY priority DESC, run_at, seq
    LIMIT $5
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE jobs
    SET status = 'running', attempt = attempt + 1, claims = claims + 1, lease_owner = $1,
        lease_expires_at = $2, started_at = $3, updated_at = $3,
        attempt_nodes = (attempt_nodes::jsonb
            || jsonb_build_array(jsonb_build_object('attempt', attempt + 1, 'node', $1::text)))::text
    -- The picked ids as an array: the primary key finds each. (A join to `picked` is planned,
    -- in the generic plan of this prepared statement, for 10 % of the table: a hash join over
    -- a scan of every job, history included.)
    WHERE id = ANY(ARRAY(SELECT id FROM picked))
    RETURNING id, handler, payload, source, status, pause_reason, priority, attempt, claims,
              max_attempts, run_at, timeout_ms, progress_current, progress_total, cost_estimate,
              cost_actual, result, error, error_details, parent_job_id, plugin_version,
              created_at, started_at, completed_at, updated_at, root_job_id, depth,
              attempt_nodes, seq
)
-- RETURNING keeps no order: the claim order, restored (a sort of at most $5 rows).
SELECT id, handler, payload, source, status, pause_reason, priority, attempt, claims,
       max_attempts, run_at, timeout_ms, progress_current, progress_total, cost_estimate,
       cost_actual, result, error, error_details, parent_job_id, plugin_version, created_at,
       started_at, completed_at, updated_at, root_job_id, depth, attempt_nodes
FROM claimed
ORDER BY priority DESC, run_at, seq
