-- Queued jobs for handlers outside ?1 (a JSON list), by handler: what a node that serves ?1
-- leaves behind. Walks the partial index of queued jobs.
SELECT handler, COUNT(*) FROM jobs
WHERE status = 'queued' AND handler NOT IN (SELECT value FROM json_each(?1))
GROUP BY handler ORDER BY handler
