-- Queued jobs for handlers outside $1, by handler: what a node that serves $1 leaves
-- behind. Walks the partial index of queued jobs.
SELECT handler, COUNT(*) FROM jobs
WHERE status = 'queued' AND handler <> ALL($1)
GROUP BY handler ORDER BY handler
