UPDATE nodes SET stopped_at = $2, seen_at = $2 WHERE id = $1
