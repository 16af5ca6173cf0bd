SELECT id, owner, handler, filter, max_fires_per_second, include_own_writes, cursor_seq
FROM watchers
ORDER BY id
