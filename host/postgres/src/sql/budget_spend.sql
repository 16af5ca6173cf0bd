-- Settled spend since $1 (a day ago), $2 (a week) and $3 (a month), on jobs_by_completion;
-- what running jobs reserve, on jobs_leases.
SELECT
    COALESCE(SUM(cost_actual) FILTER (WHERE completed_at >= $1), 0),
    COALESCE(SUM(cost_actual) FILTER (WHERE completed_at >= $2), 0),
    COALESCE(SUM(cost_actual), 0),
    (SELECT COALESCE(SUM(GREATEST(cost_estimate, cost_actual)), 0) FROM jobs
     WHERE status = 'running')
FROM jobs
WHERE completed_at >= $3
