-- Each count on the partial index of its status: jobs_runnable, then jobs_leases.
SELECT
    (SELECT COUNT(*) FROM jobs
     WHERE status = 'queued' AND run_at <= $2 AND handler = ANY($1)),
    (SELECT COUNT(*) FROM jobs
     WHERE status = 'running' AND handler = ANY($1)),
    (SELECT MIN(run_at) FROM jobs
     WHERE status = 'queued' AND run_at > $2 AND handler = ANY($1))
