-- Pulse, third step: claiming and completing a job touch only the index entries they must
-- move. Before, every transition rewrote two entries keyed on the status that no hot query
-- needed (measured by `cargo bench -p qntx-bench`: about a sixth of the database work per job).

-- Dedup of `unique` enqueues: unfinished jobs by (handler, source). `completed_at IS NULL` is
-- the same set as status IN ('queued', 'running', 'paused') (a CHECK of 002 ties them), but a
-- claim leaves it unchanged, so claiming no longer moves this index's entries.
DROP INDEX jobs_active_by_source;
CREATE INDEX jobs_unfinished_by_source ON jobs (handler, source) WHERE completed_at IS NULL;

-- Each status query now has a partial index of its own: queued → jobs_runnable, running →
-- jobs_leases, finished → jobs_by_completion, paused → jobs_paused (the budget resumer's order).
DROP INDEX jobs_by_status;
CREATE INDEX jobs_paused ON jobs (pause_reason, priority DESC, run_at) WHERE status = 'paused';
