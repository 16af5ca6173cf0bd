SELECT value FROM json_each(?1)
WHERE NOT EXISTS (
    SELECT 1 FROM jobs WHERE id = value AND status = 'running' AND lease_owner = ?2
)
