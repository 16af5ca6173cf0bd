INSERT INTO jobs (id, handler, payload, source, status, priority, max_attempts, run_at, timeout_ms,
                  cost_estimate, parent_job_id, created_at, updated_at, root_job_id, depth)
VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
