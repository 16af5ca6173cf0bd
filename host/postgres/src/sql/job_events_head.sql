-- The newest row that job_events_after may return now; on the primary key, backwards.
SELECT xid, seq FROM job_events
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY xid DESC, seq DESC
LIMIT 1
