-- Many queued jobs in one statement: one array per column, in batch order (`n`), so that `seq`
-- (the enqueue order claims break ties by) follows the batch.
INSERT INTO jobs (id, handler, payload, source, status, priority, max_attempts, run_at, timeout_ms,
                  cost_estimate, parent_job_id, created_at, updated_at, root_job_id, depth)
SELECT id, handler, payload, source, 'queued', priority, max_attempts, run_at, timeout_ms,
       cost_estimate, parent_job_id, $11, $11, root_job_id, depth
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[],
            $8::bigint[], $9::float8[], $10::text[], $12::text[], $13::bigint[])
     WITH ORDINALITY AS t(id, handler, payload, source, priority, max_attempts, run_at,
                          timeout_ms, cost_estimate, parent_job_id, root_job_id, depth, n)
ORDER BY n
