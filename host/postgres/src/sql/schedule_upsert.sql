INSERT INTO schedules (id, owner, handler, payload, interval_ms, enabled, next_run_at, created_at,
                       updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, handler = excluded.handler,
    payload = excluded.payload,
    next_run_at = CASE WHEN schedules.interval_ms = excluded.interval_ms THEN schedules.next_run_at
                       ELSE excluded.next_run_at END,
    interval_ms = excluded.interval_ms, updated_at = excluded.updated_at
