-- Pulse, fifth step: listing jobs (`qntx job list`, the HTTP API) walks an index newest first
-- and stops at the page's size, so a page of one handler's failed jobs among a million
-- finished ones reads a page of index entries, not the table.
--
-- Writes stay light (see 007): `jobs_by_handler` never changes after the insert (a job's
-- handler and id are fixed), and the two indexes of finished jobs gain an entry once, when a
-- job finishes. Listing queued, running or paused jobs walks the indexes of those statuses
-- (jobs_runnable, jobs_leases, jobs_paused, jobs_unfinished_by_source): they hold the backlog,
-- not the history.
CREATE INDEX jobs_by_handler ON jobs (handler, id);
CREATE INDEX jobs_finished ON jobs (status, id) WHERE completed_at IS NOT NULL;
CREATE INDEX jobs_finished_by_handler ON jobs (handler, status, id)
    WHERE completed_at IS NOT NULL;
