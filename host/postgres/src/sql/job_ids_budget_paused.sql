-- On jobs_paused, in claim order.
SELECT id, cost_estimate FROM jobs
WHERE status = 'paused' AND pause_reason = 'budget_exceeded'
ORDER BY priority DESC, run_at, seq
LIMIT $1
