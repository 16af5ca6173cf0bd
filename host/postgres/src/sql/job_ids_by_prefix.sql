-- On the primary key: ids are `COLLATE "C"`, so the range is byte order.
SELECT id FROM jobs WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 2
