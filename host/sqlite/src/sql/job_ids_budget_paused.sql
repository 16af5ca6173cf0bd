SELECT id, cost_estimate FROM jobs
WHERE status = 'paused' AND pause_reason = 'budget_exceeded'
ORDER BY priority DESC, run_at, rowid
-- `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
-- statement again at every execution.
LIMIT ?1 + 0