-- Commit order is seq order (one writer at a time): the transaction part of the cursor is 0.
SELECT seq, job_id, handler, source, status, progress_current, progress_total, at
FROM job_events
WHERE seq > ?1
  AND (?2 IS NULL OR job_id = ?2)
  AND (?3 IS NULL OR handler = ?3)
  AND (?4 IS NULL OR status = ?4)
  AND (?5 IS NULL OR source = ?5)
ORDER BY seq
-- `+ 0`: with a bare `LIMIT ?` SQLite plans with the bound value and so prepares the
-- statement again at every execution.
LIMIT ?6 + 0
