SELECT
    COALESCE(SUM(cost_actual) FILTER (WHERE completed_at >= ?1), 0),
    COALESCE(SUM(cost_actual) FILTER (WHERE completed_at >= ?2), 0),
    COALESCE(SUM(cost_actual), 0),
    (SELECT COALESCE(SUM(MAX(cost_estimate, cost_actual)), 0) FROM jobs WHERE status = 'running')
FROM jobs
WHERE completed_at >= ?3
