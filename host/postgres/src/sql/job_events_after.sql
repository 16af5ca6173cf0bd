-- Only rows of transactions older than every running one: none can still appear below them.
-- (pg_current_snapshot() is the statement's snapshot, so each such row is visible to it.)
SELECT xid, seq, job_id, handler, source, status, progress_current, progress_total, at
FROM job_events
WHERE (xid, seq) > ($1, $2)
  AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  AND ($3::text IS NULL OR job_id = $3)
  AND ($4::text IS NULL OR handler = $4)
  AND ($5::text IS NULL OR status = $5)
  AND ($6::text IS NULL OR source = $6)
ORDER BY xid, seq
LIMIT $7
