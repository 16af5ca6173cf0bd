SELECT id, host, pid, started_at, seen_at, lease_ms, stopped_at FROM nodes WHERE id = $1
