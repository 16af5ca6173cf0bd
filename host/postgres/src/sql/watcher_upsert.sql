INSERT INTO watchers (id, owner, handler, filter, max_fires_per_second, include_own_writes,
                      cursor_seq, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, handler = excluded.handler,
    filter = excluded.filter, max_fires_per_second = excluded.max_fires_per_second,
    include_own_writes = excluded.include_own_writes, updated_at = excluded.updated_at
