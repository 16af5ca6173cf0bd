DELETE FROM schedules
WHERE owner = ?1 AND id NOT IN (SELECT value FROM json_each(?2))
