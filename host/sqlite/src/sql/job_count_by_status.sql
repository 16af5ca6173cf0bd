-- Jobs by handler and status. Finished jobs are counted from jobs_finished_by_handler alone
-- (it holds both columns, in group order); unfinished ones, the backlog, through
-- jobs_unfinished_by_source.
SELECT handler, status, COUNT(*) FROM jobs WHERE completed_at IS NOT NULL
GROUP BY handler, status
UNION ALL
SELECT handler, status, COUNT(*) FROM jobs WHERE completed_at IS NULL
GROUP BY handler, status
