INSERT INTO nodes (id, host, pid, started_at, seen_at, lease_ms, handlers)
VALUES ($1, $2, $3, $4, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET seen_at = $4, lease_ms = $5, handlers = $6
